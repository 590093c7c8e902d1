import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient
import Synchronization
import TestSupport
import Testing

/// The real processes under faults: Redis crashing and full, the worker killed mid-settlement, two
/// workers at once, duplicate and malformed stream entries. Each scenario ends with the invariant
/// checker (docs/ARCHITECTURE.md, "Proof under faults").
@Suite(.serialized) struct ProcessFaultTests {
    static let keys = BetMakerSystem.keys

    /// The invariant checker over the whole store, in process; every violation is a test failure.
    static func expectInvariantsHold(_ system: BetMakerSystem, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await InvariantChecker(redis: system.redis, keys: keys).check()
        #expect(report.isClean, "\(report.violationCount) violations: \(report.violations.prefix(20))", sourceLocation: sourceLocation)
    }

    /// Places `count` bets on each event through the stores (the API's own code path), quicker than
    /// HTTP. A fifth of them are bets with money from three funded users' accounts, on events that are
    /// in the catalogue, so settlement under faults must also pay each winner exactly once.
    static func place(_ count: Int, onEach events: [String], _ system: BetMakerSystem) async throws {
        let store = BetStore(redis: system.redis, keys: keys, ids: BetIDGenerator(node: 7))
        let catalogue = CatalogueStore(redis: system.redis, keys: keys)
        for event in events {
            let entry = CatalogueEvent(
                id: event, title: event, homeTeam: "Home", awayTeam: "Away", startsAt: 1_800_000_000_000, odds: Odds(hundredths: 195),
                isOpen: true)
            guard case .created = try await catalogue.create(entry) else { throw TestSupportError("\(event) not in the catalogue") }
        }
        let funded = try await fundedUsers(3, system)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for event in events {
                for task in 0..<10 {
                    group.addTask {
                        for index in 0..<(count / 10) {
                            let amount = Money(cents: 100 + Int64(task * 7 + index % 13))
                            let outcome =
                                task < 2
                                ? try await store.place(
                                    eventID: event, amount: amount, userID: funded[index % 3].userID, accountID: funded[index % 3].accountID
                                )
                                : try await store.place(eventID: event, amount: amount)
                            guard case .placed = outcome else { throw TestSupportError("bet on \(event) not placed: \(outcome)") }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// `count` active users, each with 1,000,000.00 in a first account.
    static func fundedUsers(_ count: Int, _ system: BetMakerSystem) async throws -> [(userID: Int, accountID: Int)] {
        let accounts = AccountStore(redis: system.redis, keys: keys)
        var wallets: [(userID: Int, accountID: Int)] = []
        for index in 0..<count {
            guard
                case .created(let user, let account, _) = try await accounts.register(
                    login: "fault-\(index)", passwordHash: "x", active: true),
                case .credited = try await accounts.deposit(
                    transactionID: "fault-\(index)", userID: user.id, accountID: account.id, amount: Money(cents: 100_000_000))
            else { throw TestSupportError("no funded user \(index)") }
            wallets.append((user.id, account.id))
        }
        return wallets
    }

    /// The API's settings for a results feed: events with bets with money take results only from an
    /// operator or the feed's key.
    static let resultsFeed = ["RESULTS_API_KEY": "fault-results-key"]

    /// Reports `result` for `event` as the results feed; the answer's status.
    static func report(_ event: String, _ result: EventResult, _ system: BetMakerSystem) async throws -> Int {
        try await system.request(
            .PUT, "/events/\(event)", json: #"{"status": "\#(result.rawValue)"}"#, headers: [("X-API-Key", resultsFeed["RESULTS_API_KEY"]!)]
        ).status
    }

    /// The stream entries a worker's JSON log says it settled (with the event and the bets it flipped)
    /// and dead-lettered.
    static func handledEntries(_ output: String) -> (settled: [(entryID: String, eventID: String, flipped: Int)], deadLettered: [String]) {
        var settled: [(entryID: String, eventID: String, flipped: Int)] = []
        var deadLettered: [String] = []
        for line in output.split(separator: "\n") where line.hasPrefix("{") {
            guard case .object(let members)? = try? JSONParser.parse(Array(line.utf8)) else { continue }
            var fields: [String: String] = [:]
            for member in members { if case .string(let text) = member.value { fields[member.key] = text } }
            switch fields["message"] {
            case "Event settled":
                settled.append((fields["entry_id"] ?? "", fields["event_id"] ?? "", Int(fields["flipped"] ?? "") ?? -1))
            case "Stream entry moved to the dead-letter stream":
                deadLettered.append(fields["entry_id"] ?? "")
            default:
                break
            }
        }
        return (settled, deadLettered)
    }

    /// Each event's settle_pos, summed: how many bets have been settled so far.
    static func settledSoFar(_ events: [String], _ redis: RedisClient) async throws -> Int {
        let replies = try await redis.pipeline(events.map { RedisCommand("HGET", keys.event($0), "settle_pos") })
        return try replies.reduce(0) { $0 + (Int(try $1.get().string ?? "0") ?? 0) }
    }

    static func allSettled(_ events: [String], _ redis: RedisClient) async throws -> Bool {
        let replies = try await redis.pipeline(events.map { RedisCommand("HGET", keys.event($0), "settled_at") })
        return try replies.allSatisfy { try !$0.get().isNull }
    }

    /// Every bet of every event settled once and as its result says: counts equal list lengths.
    static func expectSettledExactlyOnce(_ events: [String: EventResult], betsEach: Int, _ redis: RedisClient) async throws {
        for (event, result) in events {
            let fields = try await redis.hmget(keys.event(event), ["bets", "won", "lost", "settle_pos"]).map { Int($0 ?? "0") ?? -1 }
            let length = try await redis.llen(keys.eventBets(event))
            #expect(length == betsEach, "\(event)")
            #expect(fields[0] == length && fields[3] == length, "\(event): \(fields)")
            #expect(fields[1] == (result == .win ? length : 0) && fields[2] == (result == .lose ? length : 0), "\(event): \(fields)")
        }
        #expect(try await redis.xpendingSummary(keys.eventsStream, group: "settlement").count == 0)
    }

    // MARK: Redis restarted

    @Test func redisRestartedWhileBetsArePlacedLosesNoAcceptedBet() async throws {
        try await withBetMakerSystem { system in
            struct Tally {
                var accepted: [String] = []
                var unavailable = 0
                var acceptedAfterRestart = 0
                var unexpected: [String] = []
                var unavailableBody: String?
                var unavailableType: String?
                /// Problem types of the 503s: `storage-unavailable` while Redis is down, `outcome-unknown`
                /// for a bet whose script was in flight when Redis died (it may have been applied).
                var unavailableProblems: Set<String> = []
                var restarted = false
                var stop = false
            }
            final class Shared: Sendable {
                let state = Mutex(Tally())
                func withLock<Result>(_ body: (inout Tally) -> Result) -> Result { state.withLock { body(&$0) } }
            }
            let tally = Shared()
            try await withThrowingTaskGroup(of: Void.self) { clients in
                for client in 0..<8 {
                    clients.addTask {
                        var index = 0
                        while !tally.withLock({ $0.stop }) {
                            index += 1
                            let reply: BetMakerSystem.Reply
                            do {
                                reply = try await system.request(
                                    .POST, "/bets", json: #"{"event_id": "restart-\#(client % 3)", "amount": "1.\#(index % 90 + 10)"}"#)
                            } catch {
                                tally.withLock { $0.unexpected.append("transport: \(error)") }
                                continue
                            }
                            tally.withLock { tally in
                                switch reply.status {
                                case 201:
                                    tally.accepted.append(reply.string["id"] ?? "")
                                    if tally.restarted { tally.acceptedAfterRestart += 1 }
                                case 503:
                                    tally.unavailable += 1
                                    tally.unavailableBody = reply.body
                                    tally.unavailableType = reply.headers.first(name: "Content-Type")
                                    tally.unavailableProblems.insert(reply.string["type"] ?? reply.body)
                                default:
                                    tally.unexpected.append("\(reply.status) \(reply.body)")
                                }
                            }
                            // A client backing off a little, as real ones do; not a synchronisation.
                            if reply.status == 503 { try await Task.sleep(for: .milliseconds(5)) }
                        }
                    }
                }
                #expect(await eventually { tally.withLock { $0.accepted.count } >= 200 })
                await system.redisServer.kill()
                #expect(await eventually { tally.withLock { $0.unavailable } >= 20 }, "the API answers 503 while Redis is down")
                let acceptedWhileDown = tally.withLock { $0.accepted.count }
                try await system.redisServer.launch()
                tally.withLock { $0.restarted = true }
                #expect(
                    await eventually { tally.withLock { $0.acceptedAfterRestart } >= 200 }, "the API recovers by itself once Redis is back")
                tally.withLock { $0.stop = true }
                try await clients.waitForAll()
                #expect(tally.withLock { $0.accepted.count } > acceptedWhileDown)
            }

            // The test's own client reconnects with backoff too.
            #expect(await eventually { try await system.redis.ping() == "PONG" })
            let result = tally.withLock { $0 }
            #expect(result.unexpected.isEmpty, "\(result.unexpected.prefix(5))")
            #expect(result.unavailableType == "application/problem+json")
            #expect(result.unavailableProblems.contains("/problems/storage-unavailable"), "\(result.unavailableProblems)")
            #expect(
                result.unavailableProblems.isSubset(of: ["/problems/storage-unavailable", "/problems/outcome-unknown"]),
                "\(result.unavailableProblems), e.g. \(result.unavailableBody ?? "")")
            #expect(Set(result.accepted).count == result.accepted.count)
            // Every bet that got a 201 survived the crash (AOF, appendfsync always).
            let replies = try await system.redis.pipeline(result.accepted.map { RedisCommand("EXISTS", Self.keys.bet($0)) })
            let missing = zip(result.accepted, replies).filter { (try? $0.1.get().int(for: "EXISTS")) != 1 }.map(\.0)
            #expect(missing.isEmpty, "\(missing.count) of \(result.accepted.count) accepted bets are missing: \(missing.prefix(5))")
            try await Self.expectInvariantsHold(system)
        }
    }

    // MARK: Worker killed

    @Test func aWorkerKilledAtRandomMomentsSettlesEveryBetExactlyOnce() async throws {
        try await withBetMakerSystem(apiSettings: Self.resultsFeed) { system in
            let events = (1...5).map { "kill-\($0)" }
            let betsEach = 5000
            try await Self.place(betsEach, onEach: events, system)
            let results = Dictionary(uniqueKeysWithValues: events.enumerated().map { ($1, $0 % 2 == 0 ? EventResult.win : .lose) })
            let total = events.count * betsEach

            let settings = ["SETTLEMENT_BATCH_SIZE": "50", "SETTLEMENT_PAUSE_MS": "5"]
            var worker = try await BetMakerProcesses.startWorker(redis: system.redisServer, name: "crashy", settings: settings)
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
                worker = try await BetMakerProcesses.startWorker(redis: system.redisServer, name: "crashy", settings: settings)
            }
            // Once more, and this time a worker under another name takes the dead one's entries over.
            let before = try await Self.settledSoFar(events, system.redis)
            #expect(await eventually(every: .milliseconds(1)) { try await Self.settledSoFar(events, system.redis) >= before + 200 })
            await worker.kill9()
            killedAt.append(try await Self.settledSoFar(events, system.redis))
            worker = try await BetMakerProcesses.startWorker(
                redis: system.redisServer, name: "rescuer",
                settings: ["SETTLEMENT_BATCH_SIZE": "500", "WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"])

            #expect(await eventually(timeout: .seconds(60)) { try await Self.allSettled(events, system.redis) }, "killed at \(killedAt)")
            #expect(await eventually { try await system.redis.xpendingSummary(Self.keys.eventsStream, group: "settlement").count == 0 })
            #expect(killedAt.allSatisfy { $0 > 0 && $0 < total }, "every kill fell mid-settlement: \(killedAt)")
            try await Self.expectSettledExactlyOnce(results, betsEach: betsEach, system.redis)
            #expect(await worker.stop() == 0)
            try await Self.expectInvariantsHold(system)
            // The same verdict from the operator's command.
            let check = try await BetMakerProcesses.runCheck(redis: system.redisServer)
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
            let first = try await BetMakerProcesses.startWorker(redis: system.redisServer, name: "first", settings: settings)
            let second = try await BetMakerProcesses.startWorker(redis: system.redisServer, name: "second", settings: settings)

            let stream = Self.keys.eventsStream
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
            let dead = try await system.redis.xrange(Self.keys.deadLetters)
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
            #expect(try await BetMakerProcesses.run("betmaker-api", ["seed"], redis: system.redisServer).status == 0)
            let login = try await system.request(.POST, "/auth", json: #"{"login": "admin", "password": "admin-password"}"#)
            let admin = try #require(login.string["access_token"], "\(login.body)")
            let catalogue = CatalogueStore(redis: system.redis, keys: Self.keys)
            let event = CatalogueEvent(
                id: "damaged", title: "Damaged", homeTeam: "Home", awayTeam: "Away", startsAt: 1_800_000_000_000,
                odds: Odds(hundredths: 195), isOpen: true)
            #expect(try await catalogue.create(event) == .created(event))
            let users = try await Self.fundedUsers(3, system)
            let store = BetStore(redis: system.redis, keys: Self.keys, ids: BetIDGenerator(node: 8))
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
                redis: system.redisServer, settings: ["SETTLEMENT_BATCH_SIZE": "40", "WORKER_MAX_DELIVERIES": "3"])
            #expect(try await system.request(.PUT, "/events/damaged", json: #"{"status": "WIN"}"#, token: admin).status == 202)
            #expect(await eventually(timeout: .seconds(60)) { try await system.redis.xlen(Self.keys.deadLetters) == 1 })

            // Dead-lettered after four deliveries, its event parked; the first batch settled, nothing more.
            let letter = try #require(try await system.redis.xrange(Self.keys.deadLetters).first)
            #expect(letter.fields?["reason"] == "delivered 4 times without being settled", "\(letter)")
            #expect(try await system.redis.hmget(Self.keys.event("damaged"), ["settle_pos", "parked"]) == ["10", letter.id])
            #expect(try await system.redis.zscore(Self.keys.unsettledEvents, "damaged") == nil)
            let early = try await Self.payoutsByBet(users, system.redis)
            #expect(early.values.allSatisfy { $0 == 1 }, "a bet paid more than once: \(early.filter { $0.value > 1 })")
            #expect(Set(early.keys) == Set(bets.prefix(10).map(\.id)), "exactly the first batch is paid")

            // Repaired, listed and re-driven by an administrator: settled to the end, each winner paid once.
            _ = try await system.redis.hset(victim, ["payout": String(bets[14].amount.cents * 195 / 100)])
            let listed = try await system.request(.GET, "/admin/dead-letters", token: admin)
            #expect(listed.status == 200 && listed.body.contains(#""id":"\#(letter.id)""#), "\(listed.body)")
            let retried = try await system.request(.POST, "/admin/dead-letters/\(letter.id)/retry", token: admin)
            #expect(retried.status == 202 && retried.string["event_id"] == "damaged", "\(retried.body)")
            #expect(await eventually { try await Self.allSettled(["damaged"], system.redis) })
            #expect(await eventually { try await system.redis.xpendingSummary(Self.keys.eventsStream, group: "settlement").count == 0 })
            let paid = try await Self.payoutsByBet(users, system.redis)
            #expect(paid == Dictionary(uniqueKeysWithValues: bets.map { ($0.id, 1) }))
            #expect(try await system.redis.xlen(Self.keys.deadLetters) == 0)
            #expect(try await system.redis.hget(Self.keys.event("damaged"), "parked") == nil)
            #expect(try await system.request(.POST, "/admin/dead-letters/\(letter.id)/retry", token: admin).status == 404)
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

    // MARK: Redis full

    @Test func aFullRedisMakesWritesAnswer503AndReadsWorkUntilMemoryIsFreed() async throws {
        try await withBetMakerSystem(redisArguments: ["--maxmemory", "24mb", "--maxmemory-policy", "noeviction"]) { system in
            let placed = try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "5"}"#)
            #expect(placed.status == 201)
            let id = placed.string["id"] ?? ""

            // Fill Redis with one filler key until it refuses writes.
            let filler = "filler"
            let chunk = String(repeating: "x", count: 512 * 1024)
            var full = false
            for _ in 0..<200 where !full {
                do {
                    _ = try await system.redis.send(RedisCommand("APPEND", filler, chunk))
                } catch let error as RedisError where error.serverCode == "OOM" {
                    full = true
                }
            }
            #expect(full, "Redis never refused a write")

            let refused = try await withThrowingTaskGroup(of: BetMakerSystem.Reply.self) { group in
                for index in 0..<20 {
                    group.addTask { try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "\#(index + 1)"}"#) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for reply in refused {
                #expect(reply.status == 503, "\(reply.body)")
                #expect(reply.headers.first(name: "Content-Type") == "application/problem+json")
                #expect(reply.string["type"] == "/problems/storage-full", "\(reply.body)")
                #expect(reply.headers.first(name: "Retry-After") != nil)
            }
            let report = try await system.request(.PUT, "/events/other", json: #"{"status": "WIN"}"#)
            #expect(report.status == 503 && report.string["type"] == "/problems/storage-full", "\(report.body)")
            // Reading goes on.
            #expect(try await system.request(.GET, "/bets/\(id)").status == 200)
            let listing = try await system.request(.GET, "/bets?event_id=full")
            #expect(listing.status == 200 && listing.body.contains(id), "\(listing.body)")
            #expect(try await system.request(.GET, "/events/full").status == 200)
            #expect(system.api.isRunning)

            #expect(try await system.redis.del([filler]) == 1)
            let again = try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "6"}"#)
            #expect(again.status == 201, "\(again.body)")
            #expect(try await system.redis.llen(Self.keys.eventBets("full")) == 2, "refused bets left nothing behind")
            try await Self.expectInvariantsHold(system)
        }
    }
}
