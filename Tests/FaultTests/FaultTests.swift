import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
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
        let store = BetStore(redis: system.redis, keys: keys, ids: IDGenerator(node: 7))
        let catalogue = CatalogueStore(redis: system.redis, keys: keys)
        for event in events {
            let entry = CatalogueEvent(
                id: event, title: event, homeTeam: "Home", awayTeam: "Away", startsAt: 4_000_000_000_000, odds: Odds(hundredths: 195),
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
        #expect(try await redis.xpendingSummary(keys.eventsStream(shard: 0), group: "settlement").count == 0)
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
            let replies = try await system.redis.pipeline(
                result.accepted.map { RedisCommand("EXISTS", BetID($0).map(Self.keys.bet) ?? $0) })
            let missing = zip(result.accepted, replies).filter { (try? $0.1.get().int(for: "EXISTS")) != 1 }.map(\.0)
            #expect(missing.isEmpty, "\(missing.count) of \(result.accepted.count) accepted bets are missing: \(missing.prefix(5))")
            try await Self.expectInvariantsHold(system)
        }
    }
}
