import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

extension ProcessFaultTests {
    // MARK: Worker killed

    @Test func aWorkerKilledAtRandomMomentsSettlesEveryBetExactlyOnce() async throws {
        try await withBetMakerSystem(apiSettings: Self.resultsFeed) { system in
            let events = (1...5).map { "kill-\($0)" }
            let betsEach = 5000
            try await Self.place(betsEach, onEach: events, system)
            let results = Dictionary(uniqueKeysWithValues: events.enumerated().map { ($1, $0 % 2 == 0 ? EventResult.win : .lose) })
            let total = events.count * betsEach

            let settings = ["SETTLEMENT_BATCH_SIZE": "50", "SETTLEMENT_PAUSE_MS": "5"]
            var worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            for event in events {
                #expect(try await Self.report(event, results[event]!, system) == 202)
            }
            var killedAt: [Int] = []
            for _ in 0..<4 {
                let reached = try await Self.settledSoFar(events, system.redis)
                let target = min(total - 1000, reached + Int.random(in: 300...3000))
                #expect(await eventually(every: .milliseconds(1)) { try await Self.settledSoFar(events, system.redis) >= target })
                await worker.kill9()
                let frozen = try await Self.settledSoFar(events, system.redis)
                killedAt.append(frozen)
                #expect(frozen < total, "killed before the end (at \(killedAt))")
                worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            }
            // Once more, and this time a worker under another name takes the dead one's entries over.
            let before = try await Self.settledSoFar(events, system.redis)
            #expect(await eventually(every: .milliseconds(1)) { try await Self.settledSoFar(events, system.redis) >= before + 200 })
            await worker.kill9()
            killedAt.append(try await Self.settledSoFar(events, system.redis))
            worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, name: "rescuer",
                settings: ["SETTLEMENT_BATCH_SIZE": "500", "WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"])

            #expect(await eventually(timeout: .seconds(60)) { try await Self.allSettled(events, system.redis) }, "killed at \(killedAt)")
            #expect(
                await eventually {
                    try await system.redis.xpendingSummary(Self.keys.eventsStream(shard: 0), group: "settlement").count == 0
                })
            #expect(killedAt.allSatisfy { $0 > 0 && $0 < total }, "every kill fell mid-settlement: \(killedAt)")
            try await Self.expectSettledExactlyOnce(results, betsEach: betsEach, system.redis)
            #expect(await worker.stop() == 0)
            try await Self.expectInvariantsHold(system)
            // The same verdict from the operator's command.
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
            #expect(check.output.contains("0 violation(s); \(total) bets, \(events.count) events"), "\(check.output)")
        }
    }

    // MARK: Two workers, duplicate and malformed entries

    @Test func twoWorkersDuplicateAndMalformedEntriesSettleOnceAndDeadLetterTheBadOnes() async throws {
        try await withBetMakerSystem(apiSettings: Self.resultsFeed) { system in
            let events = (1...4).map { "pair-\($0)" }
            let betsEach = 2000
            try await Self.place(betsEach, onEach: events, system)
            let results = Dictionary(uniqueKeysWithValues: events.enumerated().map { ($1, $0 % 2 == 0 ? EventResult.lose : .win) })
            // JSON logs, so the test can read exactly which entries each worker handled.
            let settings = ["SETTLEMENT_BATCH_SIZE": "100", "SETTLEMENT_PAUSE_MS": "1", "LOG_FORMAT": "json"]
            let first = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "first", settings: settings)
            let second = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "second", settings: settings)

            let stream = Self.keys.eventsStream(shard: 0)
            var malformed: Set<String> = []
            for event in events {
                let result = results[event]!.rawValue
                #expect(try await Self.report(event, results[event]!, system) == 202)
                // The same entry again, by hand: likely read by the other worker while the first settles.
                try await system.redis.xadd(stream, fields: ["event_id": event, "result": result, "reported_at": "1"])
            }
            malformed.insert(try await system.redis.xadd(stream, fields: ["event_id": events[0]]))
            malformed.insert(try await system.redis.xadd(stream, fields: ["event_id": events[1], "result": "DRAW"]))
            malformed.insert(try await system.redis.xadd(stream, fields: ["result": "WIN"]))
            malformed.insert(try await system.redis.xadd(stream, fields: ["event_id": "bad{id}", "result": "WIN"]))
            // Well formed, but disagreeing with the recorded result.
            let other = results[events[2]] == .win ? "LOSE" : "WIN"
            malformed.insert(try await system.redis.xadd(stream, fields: ["event_id": events[2], "result": other]))

            #expect(await eventually(timeout: .seconds(60)) { try await Self.allSettled(events, system.redis) })
            #expect(await eventually { try await system.redis.xpendingSummary(stream, group: "settlement").count == 0 })
            let dead = try await system.redis.xrange(Self.keys.deadLetters(shard: 0))
            #expect(Set(dead.compactMap { $0.fields?["entry_id"] }) == malformed, "\(dead)")
            #expect(dead.count == malformed.count)
            try await Self.expectSettledExactlyOnce(results, betsEach: betsEach, system.redis)
            #expect(await first.stop() == 0)
            #expect(await second.stop() == 0)

            // What each worker did, from its log: between them, every good entry (each event's report
            // and its copy) was settled once, every bad one dead-lettered once, none handled by both,
            // each bet flipped by exactly one of them; and both took part.
            let logs = [Self.handledEntries(first.output), Self.handledEntries(second.output)]
            let settledEntries = logs.flatMap(\.settled)
            let deadEntries = logs.flatMap(\.deadLettered)
            #expect(Set(deadEntries) == malformed && deadEntries.count == malformed.count, "\(logs)")
            #expect(Set(settledEntries.map(\.entryID)).count == 2 * events.count, "\(logs)")
            #expect(settledEntries.count == 2 * events.count, "no entry settled twice: \(logs)")
            #expect(Set(settledEntries.map(\.entryID)).isDisjoint(with: malformed))
            for event in events {
                let handled = settledEntries.filter { $0.eventID == event }
                #expect(handled.count == 2, "\(event): \(handled)")
                #expect(handled.reduce(0) { $0 + $1.flipped } == betsEach, "\(event): every bet flipped once, \(handled)")
            }
            for (name, log) in zip(["first", "second"], logs) {
                #expect(!log.settled.isEmpty || !log.deadLettered.isEmpty, "\(name) handled no entry")
            }
            try await Self.expectInvariantsHold(system)
        }
    }

    // MARK: A damaged payout in the middle of a batch

    /// Forty winners with money, settled in batches of ten; the fifteenth bet's payout is damaged.
    /// Its batch is refused whole on every delivery, so after the entry is dead-lettered nobody was
    /// paid twice (the old script paid the batch's first four again on each redelivery). Repaired
    /// and re-driven by an administrator over HTTP, the event settles and every winner is paid once.
    @Test func aDamagedPayoutMidBatchPaysNobodyTwiceAndTheReDrivenEntrySettlesOnce() async throws {
        try await withBetMakerSystem { system in
            #expect(try await BetMakerProcesses.seedDemo(redis: system.deployment).status == 0)
            let login = try await system.request(.POST, "/auth", json: #"{"login": "admin", "password": "admin-password"}"#)
            let admin = try #require(login.string["access_token"], "\(login.body)")
            let catalogue = CatalogueStore(redis: system.redis, keys: Self.keys)
            let event = CatalogueEvent(
                id: "damaged", title: "Damaged", homeTeam: "Home", awayTeam: "Away", startsAt: 4_000_000_000_000,
                odds: Odds(hundredths: 195), isOpen: true)
            #expect(try await catalogue.create(event) == .created(event))
            let users = try await Self.fundedUsers(3, system)
            let store = BetStore(redis: system.redis, keys: Self.keys, ids: IDGenerator(node: 8))
            var bets: [Bet] = []
            for index in 0..<40 {
                let user = users[index % 3]
                guard
                    case .placed(let bet) = try await store.place(
                        eventID: "damaged", amount: Money(cents: 100 + Int64(index)), userID: user.userID, accountID: user.accountID)
                else { throw TestSupportError("bet \(index) not placed") }
                bets.append(bet)
            }
            let victim = Self.keys.bet(bets[14].id)
            _ = try await system.redis.hset(victim, ["payout": "abc"])

            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: ["SETTLEMENT_BATCH_SIZE": "40", "WORKER_MAX_DELIVERIES": "3"])
            #expect(try await system.request(.PUT, "/events/damaged", json: #"{"status": "WIN"}"#, token: admin).status == 202)
            #expect(await eventually(timeout: .seconds(60)) { try await system.redis.xlen(Self.keys.deadLetters(shard: 0)) == 1 })

            // Dead-lettered after four deliveries, its event parked; the first batch settled, nothing more.
            let letter = try #require(try await system.redis.xrange(Self.keys.deadLetters(shard: 0)).first)
            #expect(letter.fields?["reason"] == "delivered 4 times without being settled", "\(letter)")
            #expect(try await system.redis.hmget(Self.keys.event("damaged"), ["settle_pos", "parked"]) == ["10", letter.id])
            #expect(try await system.redis.zscore(Self.keys.unsettledEvents(shard: 0), "damaged") == nil)
            // Payouts travel through the credits outbox: wait for the relay to apply what was owed.
            let outbox = CreditOutbox(redis: system.redis, keys: Self.keys)
            #expect(await eventually { try await outbox.isCaughtUp() })
            let early = try await Self.payoutsByBet(users, system.redis)
            #expect(early.values.allSatisfy { $0 == 1 }, "a bet paid more than once: \(early.filter { $0.value > 1 })")
            #expect(Set(early.keys) == Set(bets.prefix(10).map(\.id.description)), "exactly the first batch is paid")

            // Repaired, listed and re-driven by an administrator: settled to the end, each winner paid once.
            _ = try await system.redis.hset(victim, ["payout": String(bets[14].amount.cents * 195 / 100)])
            let letterID = "0:" + letter.id  // the API's id names the shard
            let listed = try await system.request(.GET, "/admin/dead-letters", token: admin)
            #expect(listed.status == 200 && listed.body.contains(#""id":"\#(letterID)""#), "\(listed.body)")
            let retried = try await system.request(.POST, "/admin/dead-letters/\(letterID)/retry", token: admin)
            #expect(retried.status == 202 && retried.string["event_id"] == "damaged", "\(retried.body)")
            #expect(await eventually { try await Self.allSettled(["damaged"], system.redis) })
            #expect(
                await eventually {
                    try await system.redis.xpendingSummary(Self.keys.eventsStream(shard: 0), group: "settlement").count == 0
                })
            #expect(await eventually { try await outbox.isCaughtUp() })
            let paid = try await Self.payoutsByBet(users, system.redis)
            #expect(paid == Dictionary(uniqueKeysWithValues: bets.map { ($0.id.description, 1) }))
            #expect(try await system.redis.xlen(Self.keys.deadLetters(shard: 0)) == 0)
            #expect(try await system.redis.hget(Self.keys.event("damaged"), "parked") == nil)
            #expect(try await system.request(.POST, "/admin/dead-letters/\(letterID)/retry", token: admin).status == 404)
            #expect(await worker.stop() == 0)
            try await Self.expectInvariantsHold(system)
        }
    }

    /// How many payout entries each bet has, over the users' ledgers.
    static func payoutsByBet(_ users: [(userID: Int, accountID: Int)], _ redis: RedisClient) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for user in users {
            for entry in try await redis.xrange(keys.ledger(user.userID)) where entry.fields?["type"] == "payout" {
                counts[entry.fields?["bet_id"] ?? "", default: 0] += 1
            }
        }
        return counts
    }
}
