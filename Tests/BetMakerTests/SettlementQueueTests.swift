import BetMakerRuntime
import BetMakerWorker
import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Who may report, a batch checked whole before it writes, and the events stream as a queue
/// (trimming, re-queueing, parking and re-driving), through the scripts against a real Redis.
@Suite struct SettlementQueueTests {
    static let keys = WalletStoreTests.keys
    static let group = "settlement"

    /// The stores of the wallet tests, and the queue.
    struct Stores {
        let redis: RedisClient
        let wallet: WalletStoreTests.Stores
        let queue: SettlementQueue

        init(_ redis: RedisClient) {
            self.redis = redis
            wallet = WalletStoreTests.Stores(redis)
            queue = SettlementQueue(redis: redis, keys: SettlementQueueTests.keys)
        }

        var bets: BetStore { wallet.bets }

        func unsettled() async throws -> [String] {
            try await redis.zrangeByScore(
                SettlementQueueTests.keys.unsettledEvents(shard: 0), min: .negativeInfinity, max: .positiveInfinity
            )
            .map(\.member)
        }
    }

    // MARK: Who may report

    @Test func anAnonymousReportOfAnEventWithMoneyIsRefusedAndChangesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.wallet.openEvent("derby", odds: 200)
            let player = try await stores.wallet.player("carol", balance: Money(cents: 5000))
            guard
                case .placed = try await stores.bets.place(
                    eventID: "derby", amount: Money(cents: 1000), userID: player.userID, accountID: nil)
            else {
                Issue.record("not placed")
                return
            }
            #expect(try await stores.bets.report(eventID: "derby", result: .win, by: .anonymous) == .needsOperator)
            // Nothing changed: no result, nothing queued, still open for bets, not in the unsettled index.
            let event = try await stores.bets.event(id: "derby")
            #expect(event.result == nil && event.reportedAt == nil && event.catalogue?.takesBets(at: currentMilliseconds()) == true)
            #expect(try await redis.exists([Self.keys.eventsStream(shard: 0)]) == 0)
            #expect(try await stores.unsettled().isEmpty)
            // A catalogue event carries money even before its first bet.
            try await stores.wallet.openEvent("quiet", odds: 200)
            #expect(try await stores.bets.report(eventID: "quiet", result: .lose, by: .anonymous) == .needsOperator)
            // An operator (or the results feed) may; then an anonymous repeat is still refused, not "unchanged".
            #expect(try await stores.bets.report(eventID: "derby", result: .win) == .reported)
            #expect(try await stores.bets.report(eventID: "derby", result: .win, by: .anonymous) == .needsOperator)
            #expect(try await stores.unsettled() == ["derby"])
            // An event without money takes anonymous reports, as the original API did.
            _ = try await stores.bets.place(eventID: "plain", amount: Money(cents: 100))
            #expect(try await stores.bets.report(eventID: "plain", result: .lose, by: .anonymous) == .reported)
            #expect(Set(try await stores.unsettled()) == ["derby", "plain"])
            let score = try await redis.zscore(Self.keys.unsettledEvents(shard: 0), "plain")
            #expect(score.map { Int64($0) } == (try await stores.bets.event(id: "plain").reportedAt))
            try await stores.wallet.expectClean()
        }
    }

    // MARK: A batch checked whole before it writes

    /// Each kind of damage a batch of winners with money can meet halfway, and what repairs it.
    enum Damage: String, CaseIterable, Sendable {
        case malformedPayout, missingPayout, malformedBalance, missingAccount, settledBet, betWithoutStatus, ledgerOfWrongType, eventCounter

        /// Damage on the user's slot: settlement (on the event's) owes the credits all the same, and
        /// applying them refuses the user's whole call until it is repaired.
        var isInTheWallet: Bool { [.malformedBalance, .missingAccount, .ledgerOfWrongType].contains(self) }
    }

    @Test(arguments: Damage.allCases)
    func aBatchThatWouldFailHalfwayIsRefusedBeforeItsFirstWrite(_ damage: Damage) async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.wallet.openEvent("final", odds: 200)
            let players = [
                try await stores.wallet.player("ann", balance: Money(cents: 10_000)),
                try await stores.wallet.player("ben", balance: Money(cents: 10_000)),
            ]
            var ids: [BetID] = []
            for index in 0..<6 {
                let player = players[index % 2]
                guard
                    case .placed(let bet) = try await stores.bets.place(
                        eventID: "final", amount: Money(cents: 100 * Int64(index + 1)), userID: player.userID, accountID: player.accountID)
                else { throw TestSupportError("not placed") }
                ids.append(bet.id)
            }
            _ = try await stores.bets.place(eventID: "final", amount: Money(cents: 100))
            #expect(try await stores.bets.report(eventID: "final", result: .win) == .reported)

            // The damage sits in the fourth bet (ben's), after three that the old script paid first.
            let victim = Self.keys.bet(ids[3])
            let ben = players[1]
            var repair: [RedisCommand] = []
            switch damage {
            case .malformedPayout:
                _ = try await redis.hset(victim, ["payout": "abc"])
                repair = [RedisCommand("HSET", victim, "payout", "800")]
            case .missingPayout:
                _ = try await redis.hdel(victim, ["payout"])
                repair = [RedisCommand("HSET", victim, "payout", "800")]
            case .malformedBalance:
                _ = try await redis.hset(Self.keys.accounts(ben.userID), [String(ben.accountID): "lots"])
                repair = [RedisCommand("HSET", Self.keys.accounts(ben.userID), String(ben.accountID), "8800")]
            case .missingAccount:
                _ = try await redis.hdel(Self.keys.accounts(ben.userID), [String(ben.accountID)])
                repair = [RedisCommand("HSET", Self.keys.accounts(ben.userID), String(ben.accountID), "8800")]
            case .settledBet:
                _ = try await redis.hset(victim, ["status": "won", "settled_at": "1795000000000"])
                repair = [RedisCommand("HSET", victim, "status", "pending"), RedisCommand("HDEL", victim, "settled_at")]
            case .betWithoutStatus:
                _ = try await redis.hdel(victim, ["status"])
                repair = [RedisCommand("HSET", victim, "status", "pending")]
            case .ledgerOfWrongType:
                let ledger = Self.keys.ledger(ben.userID)
                _ = try await redis.send(RedisCommand("RENAME", ledger, "w:saved-ledger"))
                _ = try await redis.set(ledger, to: "not a stream")
                repair = [RedisCommand("DEL", ledger), RedisCommand("RENAME", "w:saved-ledger", ledger)]
            case .eventCounter:
                _ = try await redis.hset(Self.keys.event("final"), ["paid": "much"])
                repair = [RedisCommand("HDEL", Self.keys.event("final"), "paid")]
            }
            let before = try await Self.snapshot(redis, players: players, ids: ids)
            let settler = Settler(redis: redis, keys: Self.keys, batchSize: 100)
            if damage.isInTheWallet {
                let report = try await settler.settle(eventID: "final", result: .win)
                #expect(report.won == 7 && report.paidOut == Money(cents: 2 * (100 + 200 + 300 + 400 + 500 + 600)))
                let bensWallet = [
                    RedisCommand("HGETALL", Self.keys.accounts(ben.userID)), RedisCommand("TYPE", Self.keys.ledger(ben.userID)),
                ]
                let bensBefore = try await redis.pipeline(bensWallet).map { "\(try $0.get())" }
                // Ann's three credits are applied; Ben's stay owed, and his wallet is as it was.
                #expect(try await stores.wallet.applyCredits() == 3)
                #expect(try await stores.wallet.applyCredits() == 0)
                #expect(try await redis.pipeline(bensWallet).map { "\(try $0.get())" } == bensBefore)
                for command in repair { _ = try await redis.send(command) }
                #expect(try await stores.wallet.applyCredits() == 3)
                #expect(try await stores.unsettled().isEmpty)
                try await stores.wallet.expectClean()
                return
            }
            for _ in 0..<3 {
                await #expect {
                    try await settler.settle(eventID: "final", result: .win)
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
            }
            // Every retry was refused whole: no bet flipped, no balance or ledger moved.
            #expect(try await Self.snapshot(redis, players: players, ids: ids) == before)

            for command in repair { _ = try await redis.send(command) }
            let report = try await settler.settle(eventID: "final", result: .win)
            #expect(report.won == 7 && report.paidOut == Money(cents: 2 * (100 + 200 + 300 + 400 + 500 + 600)))
            #expect(try await stores.unsettled().isEmpty)
            #expect(try await stores.wallet.applyCredits() == 6)
            try await stores.wallet.expectClean()
        }
    }

    /// The bets as stored, the balances and ledger lengths, and the event's counters.
    static func snapshot(_ redis: RedisClient, players: [(userID: Int, accountID: Int)], ids: [BetID]) async throws -> [String] {
        var state: [String] = []
        for id in ids { state.append("\(try await redis.hgetall(keys.bet(id)).sorted { $0.key < $1.key })") }
        for player in players {
            state.append("\(try await redis.hgetall(keys.accounts(player.userID)))")
            state.append(String((try? await redis.xlen(keys.ledger(player.userID))) ?? -1))
        }
        state.append("\(try await redis.hmget(keys.event("final"), ["settle_pos", "won", "lost", "settled_at"]))")
        return state
    }

    // MARK: Trimming

    /// Worker A read two entries and has not acknowledged them. The old trim (three separate
    /// commands) could look at the pending entries before A read them and at the group after: it then
    /// trims A's entries away, and when A dies its entry is gone. The script cannot be interleaved.
    @Test func theTrimNeverDropsAnEntryAWorkerReadAndHasNotAcknowledged() async throws {
        try await withRedis { (_, redis) async throws in
            // The old, non-atomic trim, on a stream of its own.
            let oldStream = "old:events"
            let (oldRacing, _) = try await Self.readButNotAcknowledged(redis, stream: oldStream) {
                // The old trim's first step runs before A's read...
                try await redis.xpendingSummary(oldStream, group: Self.group)
            } after: { summary in
                // ...and its other two after it.
                let groups = try await redis.xinfoGroups(oldStream)
                let bound = summary.lowestID ?? groups[0].lastDeliveredID
                try await redis.xtrim(oldStream, minID: bound, approximate: false)
            }
            let oldClaim = try await redis.xautoclaim(oldStream, group: Self.group, consumer: "b", minIdle: .zero)
            #expect(oldClaim.deletedIDs == [oldRacing[0]], "the old trim dropped an unacknowledged entry")

            // The script, in the same state.
            let queue = SettlementQueue(redis: redis, keys: Self.keys)
            let stream = Self.keys.eventsStream(shard: 0)
            let (racing, acknowledged) = try await Self.readButNotAcknowledged(redis, stream: stream) {
            } after: { (_) async throws in
                let trimmed = try await queue.trim(shard: 0)
                #expect(trimmed == 3)
            }
            let kept = try await redis.xrange(stream)
            #expect(kept.map(\.id) == racing, "acknowledged \(acknowledged) trimmed, unacknowledged kept")
            // When A dies, B takes both over; neither is among the deleted.
            let claim = try await redis.xautoclaim(stream, group: Self.group, consumer: "b", minIdle: .zero)
            #expect(claim.entries.map(\.id) == racing)
            #expect(claim.deletedIDs.isEmpty)
            // Nothing pending and everything delivered: the trim keeps the last delivered entry only.
            try await redis.xack(stream, group: Self.group, ids: racing)
            #expect(try await queue.trim(shard: 0) == 1)
            #expect(try await redis.xrange(stream).map(\.id) == [racing[1]])
        }
    }

    /// Three entries read and acknowledged by worker A, then two more that A reads and does not
    /// acknowledge; `before` runs before that read and `after` (given its result) after it.
    static func readButNotAcknowledged<Look>(
        _ redis: RedisClient, stream: String, before: () async throws -> Look, after: (Look) async throws -> Void
    ) async throws -> (racing: [String], acknowledged: [String]) {
        try await redis.xgroupCreate(stream, group: group, startingAt: "0")
        var acknowledged: [String] = []
        for index in 0..<3 { acknowledged.append(try await redis.xadd(stream, fields: ["event_id": "done-\(index)", "result": "WIN"])) }
        let done = try await redis.xreadgroup(stream, group: group, consumer: "a", count: 10)
        try await redis.xack(stream, group: group, ids: done.map(\.id))
        let look = try await before()
        var racing: [String] = []
        for index in 0..<2 { racing.append(try await redis.xadd(stream, fields: ["event_id": "new-\(index)", "result": "WIN"])) }
        #expect(try await redis.xreadgroup(stream, group: group, consumer: "a", count: 10).map(\.id) == racing)
        try await after(look)
        return (racing, acknowledged)
    }

    @Test func theTrimKeepsWhatAnyGroupStillNeedsAndNothingWithoutGroups() async throws {
        try await withRedis { (_, redis) async throws in
            let queue = SettlementQueue(redis: redis, keys: Self.keys)
            let stream = Self.keys.eventsStream(shard: 0)
            #expect(try await queue.trim(shard: 0) == 0, "no stream")
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await redis.xadd(stream, fields: ["event_id": "e-\(index)", "result": "LOSE"])) }
            #expect(try await queue.trim(shard: 0) == 0, "no group: nobody said what they are done with")
            // The workers' group has read everything and holds the fourth entry; an audit group has read
            // up to the second. The old trim looked at the workers' pending entries only.
            try await redis.xgroupCreate(stream, group: Self.group, startingAt: "0")
            let read = try await redis.xreadgroup(stream, group: Self.group, consumer: "a", count: 10)
            try await redis.xack(stream, group: Self.group, ids: read.map(\.id).filter { $0 != ids[3] })
            try await redis.xgroupCreate(stream, group: "audit", startingAt: ids[1])
            #expect(try await queue.trim(shard: 0) == 1)
            #expect(try await redis.xrange(stream).map(\.id) == Array(ids[1...]))
            #expect(try await redis.xreadgroup(stream, group: "audit", consumer: "x", count: 10).map(\.id) == Array(ids[2...]))
            try await redis.xack(stream, group: "audit", ids: Array(ids[2...]))
            #expect(try await queue.trim(shard: 0) == 2, "down to the workers' pending entry")
            #expect(try await redis.xrange(stream).map(\.id) == Array(ids[3...]))
        }
    }

    // MARK: Re-queueing, parking, re-driving

    @Test func anEventLeftUnsettledIsQueuedAgainOncePerThreshold() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            for _ in 0..<3 { _ = try await stores.bets.place(eventID: "stranded", amount: Money(cents: 100)) }
            #expect(try await stores.bets.report(eventID: "stranded", result: .win) == .reported)
            let reportedAt = try #require(try await stores.bets.event(id: "stranded").reportedAt)
            // Its entry is lost (trimmed while pending, before the trim became one script).
            let lost = try await redis.xrange(Self.keys.eventsStream(shard: 0))
            _ = try await redis.send(RedisCommand("XDEL", arguments: [Self.keys.eventsStream(shard: 0)] + lost.map(\.id)))
            // Another event in the index (reported in the same millisecond) is settled already: it is
            // only taken out.
            #expect(try await stores.bets.report(eventID: "done", result: .lose) == .reported)
            _ = try await redis.hset(Self.keys.event("done"), ["settled_at": "1"])
            _ = try await redis.zadd(Self.keys.unsettledEvents(shard: 0), [(Double(reportedAt), "done")])

            let threshold = Duration.seconds(60)
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: threshold, now: reportedAt + 59_999).isEmpty)
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: threshold, now: reportedAt + 60_000) == ["stranded"])
            #expect(try await stores.unsettled() == ["stranded"])
            let entries = try await redis.xrange(Self.keys.eventsStream(shard: 0)).filter { $0.fields?["requeued_at"] != nil }
            #expect(
                entries.map(\.fields) == [
                    [
                        "event_id": "stranded", "result": "WIN", "reported_at": String(reportedAt),
                        "requeued_at": String(reportedAt + 60_000),
                    ]
                ])
            // At most once per threshold.
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: threshold, now: reportedAt + 119_999).isEmpty)
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: threshold, now: reportedAt + 120_000) == ["stranded"])
            let overdue = try await redis.send(stores.queue.overdueCountCommand(shard: 0, after: threshold, now: reportedAt + 60_000))
            #expect(overdue == .integer(1))

            let report = try await Settler(redis: redis, keys: Self.keys, batchSize: 10).settle(eventID: "stranded", result: .win)
            #expect(report.won == 3)
            #expect(try await stores.unsettled().isEmpty)
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: threshold, now: reportedAt + 600_000).isEmpty)
            try await stores.wallet.expectClean()
        }
    }

    @Test func overdueEventsAreReadInPages() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let events = (0..<7).map { "paged-\($0)" }
            for event in events { #expect(try await stores.bets.report(eventID: event, result: .lose) == .reported) }
            let now = currentMilliseconds() + 60_000
            let first = try await stores.queue.requeueOverdue(shard: 0, after: .seconds(60), now: now, pageSize: 2)
            #expect(Set(first) == Set(events) && first.count == 7)
            // The first pages now hold events queued just now; the later ones are still reached.
            _ = try await redis.hdel(Self.keys.event(events[6]), ["requeued_at"])
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: .seconds(60), now: now + 1, pageSize: 2) == [events[6]])
            // A pass reads at most `maximumPages` pages; the next pass goes on.
            _ = try await redis.hdel(Self.keys.event(events[6]), ["requeued_at"])
            #expect(
                try await stores.queue.requeueOverdue(shard: 0, after: .seconds(60), now: now + 2, pageSize: 2, maximumPages: 3).isEmpty)
            #expect(try await stores.queue.requeueOverdue(shard: 0, after: .seconds(60), now: now + 2, pageSize: 2) == [events[6]])
        }
    }

    @Test func aDeadLetterGivenUpOnParksItsEventUntilItIsReDrivenOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let stream = Self.keys.eventsStream(shard: 0)
            try await redis.xgroupCreate(stream, group: Self.group, startingAt: "0")
            for event in ["parked", "other"] {
                _ = try await stores.bets.place(eventID: event, amount: Money(cents: 100))
                #expect(try await stores.bets.report(eventID: event, result: .win) == .reported)
            }
            let malformed = try await redis.xadd(stream, fields: ["event_id": "other"])
            let mismatch = try await redis.xadd(stream, fields: ["event_id": "other", "result": "LOSE"])
            let entries = try await redis.xreadgroup(stream, group: Self.group, consumer: "a", count: 10)
            #expect(entries.count == 4)
            let given = try #require(entries.first { $0.fields?["event_id"] == "parked" })
            try await stores.queue.deadLetter(
                given, shard: 0, reason: "delivered 11 times without being settled", deliveries: 11, park: "parked")
            for entry in entries where [malformed, mismatch].contains(entry.id) {
                try await stores.queue.deadLetter(entry, shard: 0, reason: "bad", deliveries: 1)
            }
            // Parked: out of the index, so never queued again; the others stay.
            #expect(try await stores.unsettled() == ["other"])
            let letters = try await stores.queue.deadLetters(limit: 2, before: nil)
            #expect(letters.letters.map(\.entryID) == [mismatch, malformed] && letters.nextCursor == letters.letters.last?.id)
            let parked = try #require(try await stores.queue.deadLetters(limit: 2, before: letters.nextCursor).letters.first)
            #expect(try await stores.queue.deadLetters(limit: 2, before: letters.nextCursor).nextCursor == nil)
            #expect(parked.entryID == given.id && parked.deliveries == 11 && parked.field("event_id") == "parked")
            #expect(try await redis.hget(Self.keys.event("parked"), "parked") == parked.streamID)
            #expect(
                try await stores.queue.requeueOverdue(shard: 0, after: .seconds(1), now: currentMilliseconds() + 10_000) == ["other"],
                "a parked event is not queued again")
            try await stores.wallet.expectClean()

            // Those that can never settle anything stay where they are.
            let malformedLetter = try #require(letters.letters.last)
            #expect(try await stores.queue.retryDeadLetter(id: malformedLetter.id) == .malformed)
            #expect(
                try await stores.queue.retryDeadLetter(id: letters.letters[0].id)
                    == .resultMismatch(eventID: "other", recorded: "WIN", entry: "LOSE"))
            #expect(try await stores.queue.retryDeadLetter(id: "1-0") == .missing)

            // Re-driven: a new entry with the original fields, the dead letter gone, the event back in the index.
            guard case .retried(let newEntry, "parked") = try await stores.queue.retryDeadLetter(id: parked.id) else {
                Issue.record("not re-driven")
                return
            }
            let fields = try #require(try await redis.xrange(stream, start: newEntry, end: newEntry).first?.fields)
            #expect(fields["event_id"] == "parked" && fields["result"] == "WIN" && fields["redriven_from"] == given.id)
            #expect(fields["reported_at"] == given.fields?["reported_at"])
            #expect(try await stores.queue.deadLetter(id: parked.id) == nil)
            #expect(try await redis.hget(Self.keys.event("parked"), "parked") == nil)
            #expect(Set(try await stores.unsettled()) == ["parked", "other"])
            // Once: a second retry finds nothing.
            #expect(try await stores.queue.retryDeadLetter(id: parked.id) == .missing)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 10).settle(eventID: "parked", result: .win)
            #expect(try await stores.unsettled() == ["other"])
            try await stores.wallet.expectClean()
        }
    }

    // MARK: Settings

    @Test func theRequeueThresholdMustExceedTheClaimOfADeadWorkersEntries() throws {
        #expect(try Settings(reading: { _, _ in nil }).workerConfiguration.requeueAfter == .seconds(120))
        #expect(throws: SettingsError.self) { try Settings(reading: { name, _ in ["WORKER_REQUEUE_AFTER_MS": "70000"][name] }) }
        let short = ["WORKER_REQUEUE_AFTER_MS": "1000", "WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"]
        #expect(try Settings(reading: { name, _ in short[name] }).workerConfiguration.requeueAfter == .seconds(1))
    }
}
