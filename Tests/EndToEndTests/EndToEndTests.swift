import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The real betmaker-api and betmaker-worker processes, over HTTP.
@Suite(.serialized) struct EndToEndTests {
    @Test func betsAreSettledByTheWorker() async throws {
        try await withSystem { system in
            // A worker left running by a failed expectation is killed when its ChildProcess goes away.
            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment)
            var placed: [String: String] = [:]
            for (event, amount) in [("cup-final", "10.50"), ("cup-final", "3"), ("derby", "7.25")] {
                let reply = try await system.request(.POST, "/bets", json: #"{"event_id": "\#(event)", "amount": "\#(amount)"}"#)
                #expect(reply.status == 201, "\(reply.body)")
                placed[reply.string["id"] ?? ""] = event
            }
            let before = try await system.request(.GET, "/bets")
            guard case .array(let pending) = before.json else {
                Issue.record("not a list: \(before.body)")
                return
            }
            #expect(pending.count == 3)
            #expect(before.body.contains(#""status":"pending""#))
            #expect(!before.body.contains(#""status":"won""#))

            #expect(try await system.request(.PUT, "/events/cup-final", json: #"{"status": "WIN"}"#).status == 202)
            #expect(try await system.request(.PUT, "/events/derby", json: #"{"status": "LOSE"}"#).status == 202)

            let settled = await eventually {
                let events = [try await system.request(.GET, "/events/cup-final"), try await system.request(.GET, "/events/derby")]
                return events.allSatisfy { $0["settled"] == .bool(true) }
            }
            #expect(settled)
            for (id, event) in placed {
                let bet = try await system.request(.GET, "/bets/\(id)").string
                #expect(bet["status"] == (event == "cup-final" ? "won" : "lost"))
                #expect(bet["settled_at"] != nil)
            }
            let won = try await system.request(.GET, "/bets?status=won")
            guard case .array(let wonBets) = won.json else {
                Issue.record("not a list: \(won.body)")
                return
            }
            #expect(wonBets.count == 2)
            #expect(worker.output.contains("Event settled"))
            #expect(await worker.stop() == 0)
        }
    }

    @Test func betsRacingTheirResultAreEachEitherRefusedOrSettled() async throws {
        try await withSystem { system in
            // A worker left running by a failed expectation is killed when its ChildProcess goes away.
            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment)
            let outcomes = try await withThrowingTaskGroup(of: (status: Int, id: String?, type: String?).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let reply = try await system.request(.POST, "/bets", json: #"{"event_id": "race", "amount": "1.\#(index % 100)"}"#)
                        return (reply.status, reply.string["id"], reply.string["type"])
                    }
                    if index == 100 {
                        group.addTask {
                            let reply = try await system.request(.PUT, "/events/race", json: #"{"status": "WIN"}"#)
                            return (reply.status == 202 ? 0 : reply.status, nil, nil)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.contains { $0.status == 0 }, "the result was reported")
            let bets = outcomes.filter { $0.id != nil || $0.type != nil }
            #expect(bets.count == 200)
            let accepted = Set(bets.filter { $0.status == 201 }.compactMap(\.id))
            let refused = bets.filter { $0.status == 409 }
            #expect(accepted.count + refused.count == 200, "every bet got 201 or 409")
            #expect(refused.allSatisfy { $0.type == "/problems/event-closed" })

            #expect(await eventually { try await system.request(.GET, "/events/race")["settled"] == .bool(true) })
            let stored = try await system.bets(onEvent: "race")
            #expect(Set(stored.compactMap { $0["id"] }) == accepted)
            #expect(stored.allSatisfy { $0["status"] == "won" })
            let event = try await system.request(.GET, "/events/race")
            #expect(event.body.contains(#""pending":0"#))
            #expect(await worker.stop() == 0)
        }
    }

    @Test func concurrentBetsAreListedNewestFirstWithTheCreationTimesTheirAnswersGave() async throws {
        try await withSystem { system in
            let seed = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(seed.status == 0, "\(seed.output)")
            let player = try await WalletEndToEndTests.logIn(system, "demo", "demo-password")
            // 250 bets at once on one catalogue event, every other one with the player's money.
            let placed = try await withThrowingTaskGroup(of: (id: String, createdAt: String, player: Bool).self) { group in
                for index in 0..<250 {
                    group.addTask {
                        let body = #"{"event_id": "demo-derby", "amount": "1.\#(index % 90 + 10)"}"#
                        let withMoney = index % 2 == 0
                        let reply =
                            withMoney
                            ? try await system.request(.POST, "/bets", json: body, token: player)
                            : try await system.request(.POST, "/bets", json: body)
                        guard reply.status == 201, let id = reply.string["id"], let createdAt = reply.string["created_at"] else {
                            throw TestSupportError("bet \(index) refused: \(reply.status) \(reply.body)")
                        }
                        return (id, createdAt, withMoney)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Each listing of the event (anonymous bets, the player's), over pages: newest first, so
            // created_at never increases, and each bet shows the created_at its POST answered.
            for (scope, token) in [("anonymous", nil), ("player", player)] {
                let answered = Dictionary(uniqueKeysWithValues: placed.filter { $0.player == (token != nil) }.map { ($0.id, $0.createdAt) })
                var listed: [(id: String, createdAt: String)] = []
                var next: String? = "/bets?event_id=demo-derby&limit=40"
                while let path = next {
                    let page = try await system.request(.GET, path, headers: token.map { [("Authorization", "Bearer " + $0)] } ?? [])
                    guard page.status == 200, case .array(let bets) = page.json else {
                        Issue.record("\(scope): listing failed: \(page.status) \(page.body)")
                        return
                    }
                    for case .object(let members) in bets {
                        var bet: [String: String] = [:]
                        for member in members { if case .string(let text) = member.value { bet[member.key] = text } }
                        listed.append((bet["id"] ?? "", bet["created_at"] ?? ""))
                    }
                    next = page.headers.first(name: "Link").flatMap { $0.split(separator: ">").first.map { String($0.dropFirst()) } }
                }
                #expect(listed.count == 125, "\(scope)")
                #expect(Set(listed.map(\.id)) == Set(answered.keys), "\(scope)")
                for (newer, older) in zip(listed, listed.dropFirst()) {
                    // RFC 3339 with milliseconds in UTC: text order is time order.
                    #expect(newer.createdAt >= older.createdAt, "\(scope): \(newer) is listed before \(older)")
                }
                for bet in listed {
                    #expect(answered[bet.id] == bet.createdAt, "\(scope): \(bet.id) was answered with \(answered[bet.id] ?? "nothing")")
                }
            }
        }
    }

    @Test func twoDifferentResultsAtOnceGetOneAcceptedAndOneConflict() async throws {
        try await withSystem { system in
            for round in 0..<10 {
                async let win = system.request(.PUT, "/events/tie-\(round)", json: #"{"status": "WIN"}"#)
                async let lose = system.request(.PUT, "/events/tie-\(round)", json: #"{"status": "LOSE"}"#)
                let statuses = try await [win.status, lose.status].sorted()
                #expect(statuses == [202, 409])
            }
            var queued = 0
            for shard in System.keys.allShards { queued += try await system.redis.xlen(System.keys.eventsStream(shard: shard)) }
            #expect(queued == 10)
        }
    }

    @Test func aWorkerKilledMidSettlementResumesAndSettlesEveryBetExactlyOnce() async throws {
        try await withSystem { system in
            let count = 50_000
            let store = BetStore(redis: system.redis, keys: System.keys, ids: IDGenerator(node: 9))
            // Placing through the store (the API's own code path) is faster than 50,000 HTTP requests.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        for _ in 0..<(count / 50) {
                            guard case .placed = try await store.place(eventID: "big", amount: Money(cents: 100 + Int64(task))) else {
                                throw TestSupportError("not placed")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let settings = ["SETTLEMENT_BATCH_SIZE": "250", "SETTLEMENT_PAUSE_MS": "5"]
            var worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            #expect(try await system.request(.PUT, "/events/big", json: #"{"status": "LOSE"}"#).status == 202)

            let event = System.keys.event("big")
            #expect(
                await eventually(every: .milliseconds(2)) { (Int(try await system.redis.hget(event, "settle_pos") ?? "0") ?? 0) > 5000 })
            await worker.kill9()
            let frozenAt = Int(try await system.redis.hget(event, "settle_pos") ?? "0") ?? 0
            #expect(frozenAt > 0 && frozenAt < count, "killed in the middle (at \(frozenAt))")
            #expect(try await system.redis.hget(event, "settled_at") == nil)

            worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            #expect(await eventually(timeout: .seconds(120)) { try await system.redis.hget(event, "settled_at") != nil })

            let summary = try await system.request(.GET, "/events/big")
            #expect(summary.body.contains(#""total":50000,"pending":0,"won":0,"lost":50000"#), "\(summary.body)")
            #expect(try await system.redis.llen(System.keys.allBets(shard: System.keys.shard(of: "big"))) == count)
            let ids = try await system.redis.lrange(System.keys.eventBets("big"), 0, -1)
            let stored = try await system.redis.pipeline(
                ids.map { RedisCommand("HGET", System.keys.bet(BetID(eventID: "big", serial: $0)), "status") })
            #expect(try stored.allSatisfy { try $0.get().string == "lost" })
            let stream = System.keys.eventsStream(shard: System.keys.shard(of: "big"))
            #expect(try await system.redis.xpendingSummary(stream, group: "settlement").count == 0)
            #expect(await worker.stop() == 0)
        }
    }
}
