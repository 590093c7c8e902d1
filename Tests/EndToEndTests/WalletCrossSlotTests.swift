import BetMaker
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Money across slots through the real processes: payouts and refunds through the credits outbox and
/// the worker's relay, and the worker's reconciler finishing bets stopped between their steps (the
/// first step called alone, as a crashed API would leave it).
@Suite struct WalletCrossSlotTests {
    static let keys = System.keys
    /// A worker that reconciles holds older than half a second, every tenth of one.
    static let quickReconciler = ["HOLD_MAX_AGE_MS": "500", "HOLD_RECONCILE_INTERVAL_MS": "100"]

    static func players(
        _ system: System, _ logins: [String], deposit: String
    ) async throws -> [(userID: Int, accountID: Int, token: String)] {
        var players: [(userID: Int, accountID: Int, token: String)] = []
        for login in logins {
            let player = try await WalletEndToEndTests.player(system, login)
            let body = WalletEndToEndTests.webhookBody(
                transactionID: "pay-\(login)", userID: player.userID, accountID: player.accountID, amount: deposit)
            guard try await system.request(.POST, "/payment/webhook", json: body).status == 200 else {
                throw TestSupportError("no deposit for \(login)")
            }
            players.append(player)
        }
        return players
    }

    @Test func aVoidRefundsEveryStakeThroughTheOutboxOnce() async throws {
        try await withSystem { system in
            _ = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            // The relay trims acknowledged credits at its claim interval: none within this test, so all
            // four are still there to be delivered again below.
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: ["WORKER_CLAIM_INTERVAL_MS": "3600000", "WORKER_REQUEUE_AFTER_MS": "7200000"])
            let admin = try await WalletEndToEndTests.logIn(system, "admin", "admin-password")
            let players = try await Self.players(system, ["erin", "finn"], deposit: "100.00")
            for (index, player) in players.enumerated() {
                for amount in ["12.50", "7.25"] {
                    let bet = try await system.request(
                        .POST, "/bets", json: #"{"event_id": "demo-cup-final", "amount": "\#(amount)"}"#, token: player.token)
                    #expect(bet.status == 201, "player \(index): \(bet.body)")
                }
                #expect(try await WalletEndToEndTests.balance(system, player.token) == "80.25")
            }
            let voided = try await system.request(.POST, "/events/demo-cup-final/void", json: #"{"reason": "fog"}"#, token: admin)
            #expect(voided.status == 202, "\(voided.body)")
            for player in players {
                #expect(await eventually { try await WalletEndToEndTests.balance(system, player.token) == "100.00" })
            }
            let event = try await system.request(.GET, "/events/demo-cup-final")
            #expect(event.string["total_refunded"] == "39.50", "\(event.body)")
            #expect(await worker.stop() == 0)
            // Every credit applied once: delivered again from the start, the four change nothing.
            let outbox = Self.keys.creditOutbox(shard: Self.keys.shard(of: "demo-cup-final"))
            _ = try await system.redis.send(RedisCommand("XGROUP", "SETID", outbox, CreditOutbox.consumerGroup, "0"))
            #expect(try await CreditOutbox(redis: system.redis, keys: Self.keys).drain(consumer: "again") == 4)
            for player in players { #expect(try await WalletEndToEndTests.balance(system, player.token) == "100.00") }
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test func creditsOwedWhileNoWorkerRanAreAppliedOnceWhenOneStarts() async throws {
        try await withSystem { system in
            _ = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            let admin = try await WalletEndToEndTests.logIn(system, "admin", "admin-password")
            let gina = try await Self.players(system, ["gina"], deposit: "50.00")[0]
            let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "20.00"}"#, token: gina.token)
            #expect(bet.status == 201, "\(bet.body)")
            #expect(try await system.request(.PUT, "/events/demo-derby", json: #"{"status": "WIN"}"#, token: admin).status == 202)
            // A worker settles the event and dies before its relay applied the payout: here, settlement in
            // this process, so the payout is owed in the outbox and nobody has applied it.
            let report = try await Settler(redis: system.redis, keys: Self.keys, batchSize: 100).settle(eventID: "demo-derby", result: .win)
            #expect(report.paidOut == Money(cents: 3700))
            #expect(try await WalletEndToEndTests.balance(system, gina.token) == "30.00")
            let owing = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(owing.status == 0 && owing.output.contains("credits owed 37.00"), "\(owing.output)")

            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment)
            #expect(await eventually { try await WalletEndToEndTests.balance(system, gina.token) == "67.00" })
            #expect(await worker.stop() == 0)
            // Applying it again changes nothing.
            #expect(try await CreditOutbox(redis: system.redis, keys: Self.keys).drain(consumer: "again") == 0)
            let outbox = Self.keys.creditOutbox(shard: Self.keys.shard(of: "demo-derby"))
            _ = try await system.redis.send(RedisCommand("XGROUP", "SETID", outbox, CreditOutbox.consumerGroup, "0"))
            #expect(try await CreditOutbox(redis: system.redis, keys: Self.keys).drain(consumer: "again") == 1)
            #expect(try await WalletEndToEndTests.balance(system, gina.token) == "67.00")
            let me = try await system.request(.GET, "/users/me", token: gina.token)
            #expect(me.body.components(separatedBy: #""type":"payout""#).count - 1 == 1, "one payout: \(me.body)")
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0 && check.output.contains("credits owed 0.00"), "\(check.output)")
        }
    }

    @Test func aCreditThatCannotApplyStaysPendingAndIsAppliedOnceRepaired() async throws {
        try await withSystem { system in
            _ = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            let admin = try await WalletEndToEndTests.logIn(system, "admin", "admin-password")
            let ivan = try await Self.players(system, ["ivan"], deposit: "50.00")[0]
            let bet = try await system.request(.POST, "/bets", json: #"{"event_id": "demo-derby", "amount": "20.00"}"#, token: ivan.token)
            #expect(bet.status == 201, "\(bet.body)")
            // Ivan's balance is damaged: his payout cannot be applied until an operator repairs it.
            let accounts = Self.keys.accounts(ivan.userID)
            _ = try await system.redis.hset(accounts, [String(ivan.accountID): "lots"])
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: ["WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"])
            #expect(try await system.request(.PUT, "/events/demo-derby", json: #"{"status": "WIN"}"#, token: admin).status == 202)
            #expect(await worker.waitForOutput(containing: "Credits not applied"))
            let outbox = CreditOutbox(redis: system.redis, keys: Self.keys)
            #expect(try await outbox.isCaughtUp() == false)
            #expect(try await system.redis.hget(accounts, String(ivan.accountID)) == "lots")
            _ = try await system.redis.hset(accounts, [String(ivan.accountID): "3000"])
            // Claimed again once idle, applied once, acknowledged.
            #expect(await eventually { try await outbox.isCaughtUp() })
            #expect(try await system.redis.hget(accounts, String(ivan.accountID)) == "6700")
            #expect(await worker.stop() == 0)
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test func theWorkersReconcilerFinishesBetsStoppedBetweenTheirSteps() async throws {
        try await withSystem { system in
            _ = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            let hana = try await Self.players(system, ["hana"], deposit: "100.00")[0]
            let store = BetStore(redis: system.redis, keys: Self.keys, ids: IDGenerator(node: 77))
            // Stopped after the hold: the stake is taken, no bet exists.
            let lost = BetID(eventID: "demo-derby", serial: store.ids.next())
            guard case .held = try await store.wallet.hold(.bet(lost), userID: hana.userID, amount: Money(cents: 3_000), accountID: nil)
            else { throw TestSupportError("not held") }
            // Stopped after the event's step: the bet exists, its hold is not posted.
            let placed = BetID(eventID: "demo-derby", serial: store.ids.next())
            guard
                case .held(let hold) = try await store.wallet.hold(
                    .bet(placed), userID: hana.userID, amount: Money(cents: 2_000), accountID: nil)
            else { throw TestSupportError("not held") }
            _ = try await system.redis.eval(
                Scripts.placeWalletBet,
                keys: [
                    Self.keys.event("demo-derby"), Self.keys.eventBets("demo-derby"), Self.keys.bet(placed),
                    Self.keys.eventBettors("demo-derby"),
                    Self.keys.abandonedBets("demo-derby"), Self.keys.unconfirmedStakes(of: "demo-derby"),
                ],
                arguments: [placed.description, placed.serial, "demo-derby", "2000", String(hana.userID), String(hold.accountID)])
            #expect(try await WalletEndToEndTests.balance(system, hana.token) == "50.00")

            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: Self.quickReconciler)
            #expect(await eventually { try await store.wallet.holds(userID: hana.userID).isEmpty })
            #expect(try await WalletEndToEndTests.balance(system, hana.token) == "80.00")
            #expect(await worker.waitForOutput(containing: "Hold reconciled"))
            let bets = try await system.request(.GET, "/bets", token: hana.token)
            #expect(bets.body.contains(placed.description) && !bets.body.contains(lost.description), "\(bets.body)")
            // The stopped bet, arriving late at its event, is refused: the reconciler recorded it abandoned.
            #expect(try await system.redis.sismember(Self.keys.abandonedBets("demo-derby"), lost.serial))
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment, settings: Self.quickReconciler)
            #expect(check.status == 0, "\(check.output)")
            #expect(await worker.stop() == 0)
        }
    }
}
