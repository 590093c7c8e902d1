import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Who may settle money, and no event left unsettled, through the real `betmaker-api` and
/// `betmaker-worker` processes over HTTP.
@Suite struct SettlementSafetyTests {
    static let keys = System.keys

    /// With `RESULTS_API_KEY` unset (the compose default), a player bets money on a catalogue event
    /// and tries to settle it: anonymously (401), with their own token (403). Nothing moves until
    /// an operator reports it; an event without money still takes anonymous reports.
    @Test func anEventWithMoneyIsSettledOnlyOnAnOperatorsWord() async throws {
        try await withSystem { system in
            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment)
            let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(seeded.status == 0, "\(seeded.output)")
            let demo = try await WalletEndToEndTests.logIn(system, "demo", "demo-password")
            let admin = try await WalletEndToEndTests.logIn(system, "admin", "admin-password")
            let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "10.00"}"#, token: demo)
            #expect(bet.status == 201 && bet.string["payout"] == "18.50", "\(bet.body)")
            let betID = try #require(bet.string["id"])
            #expect(try await WalletEndToEndTests.balance(system, demo) == "990.00")

            for event in ["demo-derby", "demo-cup-final"] {
                let anonymous = try await system.request(.PUT, "/events/\(event)", json: #"{"status": "WIN"}"#)
                #expect(anonymous.status == 401, "\(anonymous.body)")
                #expect(anonymous.string["type"] == "/problems/authentication-required")
                #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
                let detail = anonymous.string["detail"] ?? ""
                #expect(detail.contains("carries money") && detail.contains("X-API-Key"), "\(detail)")
            }
            let own = try await system.request(.PUT, "/events/demo-derby", json: #"{"status": "WIN"}"#, token: demo)
            #expect(own.status == 403 && own.string["type"] == "/problems/forbidden", "\(own.body)")
            // Nothing changed: the event is open, nothing was queued, the stake is still held.
            let event = try await system.request(.GET, "/events/demo-derby")
            #expect(event.string["status"] == "open" && event.body.contains(#""open":true"#), "\(event.body)")
            let derby = Self.keys.shard(of: "demo-derby")
            #expect(try await system.redis.xlen(Self.keys.eventsStream(shard: derby)) == 0)
            #expect(try await system.redis.exists([Self.keys.unsettledEvents(shard: derby)]) == 0)
            #expect(try await WalletEndToEndTests.balance(system, demo) == "990.00")
            #expect(try await system.request(.GET, "/bets/\(betID)", token: demo).string["status"] == "pending")

            let reported = try await system.request(.PUT, "/events/demo-derby", json: #"{"status": "WIN"}"#, token: admin)
            #expect(reported.status == 202, "\(reported.body)")
            #expect(await eventually { try await system.request(.GET, "/bets/\(betID)", token: demo).string["status"] == "won" })
            #expect(try await WalletEndToEndTests.balance(system, demo) == "1008.50")

            // An event without money: anonymous bets and an anonymous result, as in the original API.
            #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "pickup-game", "amount": "2"}"#).status == 201)
            #expect(try await system.request(.PUT, "/events/pickup-game", json: #"{"status": "LOSE"}"#).status == 202)
            #expect(await eventually { try await system.request(.GET, "/events/pickup-game")["settled"] == .bool(true) })

            #expect(await worker.stop() == 0)
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }

    /// An event whose stream entry is lost (as the old trim could lose one) is queued again by the
    /// worker's sweep once it waits longer than `WORKER_REQUEUE_AFTER_MS`, and settled once; the
    /// wait shows in `events_settlement_overdue` meanwhile.
    @Test func anEventWhoseEntryWasLostIsQueuedAgainAndSettledOnce() async throws {
        let settings = ["WORKER_REQUEUE_AFTER_MS": "1000", "WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"]
        try await withSystem(apiSettings: settings) { system in
            let stranded = Self.keys.shard(of: "stranded")
            for amount in ["1", "2.50", "3"] {
                #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "stranded", "amount": "\#(amount)"}"#).status == 201)
            }
            #expect(try await system.request(.PUT, "/events/stranded", json: #"{"status": "WIN"}"#).status == 202)
            let lost = try await system.redis.xrange(Self.keys.eventsStream(shard: stranded))
            #expect(lost.count == 1)
            _ = try await system.redis.send(RedisCommand("XDEL", arguments: [Self.keys.eventsStream(shard: stranded)] + lost.map(\.id)))

            func overdue() async throws -> Double? {
                Metrics(try await system.get(system.operationsURL + "/metrics").body).value("events_settlement_overdue")
            }
            #expect(await eventually { try await overdue() == 1 }, "the API shows the event waiting too long")

            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: settings)
            #expect(await eventually { try await system.request(.GET, "/events/stranded")["settled"] == .bool(true) })
            #expect(await worker.waitForOutput(containing: "Re-queued events left unsettled"))
            let event = try await system.request(.GET, "/events/stranded")
            #expect(event.body.contains(#""bets":{"total":3,"pending":0,"won":3,"lost":0,"void":0}"#), "\(event.body)")
            #expect(try await system.bets(onEvent: "stranded").allSatisfy { $0["status"] == "won" })
            let requeued = try await system.redis.xrange(Self.keys.eventsStream(shard: stranded)).filter {
                $0.fields?["requeued_at"] != nil
            }
            #expect(!requeued.isEmpty && requeued.allSatisfy { $0.fields?["event_id"] == "stranded" })
            #expect(try await system.redis.exists([Self.keys.unsettledEvents(shard: stranded)]) == 0)
            #expect(try await overdue() == 0)
            #expect(
                await eventually {
                    try await system.redis.xpendingSummary(Self.keys.eventsStream(shard: stranded), group: "settlement").count == 0
                })
            #expect(await worker.stop() == 0)
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }
}
