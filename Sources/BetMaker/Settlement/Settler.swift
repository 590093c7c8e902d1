import RedisClient

/// Settles one event: flips all its pending bets to the result's status in bounded batches, one
/// `settle_batch` call each, so Redis is never held for long however many bets the event has. A VOID
/// result goes the same way: its bets become void and their stakes are owed back. What bets with money
/// are owed goes to the shard's credits outbox; the worker's `CreditRelay` applies it.
public struct Settler: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// The work of one script call, in bets flipped: bounded so a call stays short. A won bet with
    /// money costs `payoutCost` (besides its status: its payout and balance reads, the credit and the ledger entry),
    /// and so does a void bet with money (its refund).
    public let batchSize: Int
    public static let payoutCost = 4
    /// Rest between batches, to leave Redis room for other clients; zero by default.
    public let pause: Duration

    public static let maximumBatchSize = 2000

    public init(redis: RedisClient, keys: RedisKeys, batchSize: Int, pause: Duration = .zero) {
        precondition((1...Self.maximumBatchSize).contains(batchSize), "batch size must be 1...\(Self.maximumBatchSize)")
        self.redis = redis
        self.keys = keys
        self.batchSize = batchSize
        self.pause = pause
    }

    public struct Report: Sendable, Equatable {
        public let eventID: String
        public let result: EventResult
        /// The event's counts once settled: all its bets, whoever flipped them.
        public let won: Int
        public let lost: Int
        /// Credited to the accounts of the event's won bets with money, whoever settled them.
        public let paidOut: Money
        /// The event's void bets, and the stakes refunded to the accounts of those with money.
        public let voided: Int
        public let refunded: Money
        /// Bets this call flipped (fewer than won + lost when settlement resumed or another worker helped).
        public let flipped: Int
        public let batches: Int
    }

    public enum Interruption: Error {
        /// `shouldStop` asked to stop between batches; what was done is kept and the rest resumes later.
        case stopped
    }

    /// Settles the event. `afterBatch` runs after each batch (the worker keeps its stream entry claimed
    /// there) and may throw to stop, e.g. on shutdown; settlement resumes where it stopped.
    ///
    /// Two batches are in flight at once on one connection, in order, with each batch's ids read two
    /// batches ahead, so Redis goes from one batch to the next without waiting for this process.
    public func settle(
        eventID: String, result: EventResult, afterBatch: () async throws -> Void = {}
    ) async throws -> Report {
        let connection = try await redis.connection(forKey: keys.event(eventID))
        let fixedKeys = [keys.event(eventID), keys.eventBets(eventID), keys.creditOutbox(shard: keys.shard(of: eventID))]
        let list = keys.eventBets(eventID)
        let betKeyPrefix = keys.bet(BetID(eventID: eventID, serial: ""))

        func settleCommand(start: Int, entries: [String]) -> RedisCommand {
            Scripts.settleBatch.evalshaCommand(
                keys: fixedKeys + batchKeys(eventID: eventID, entries),
                arguments: [result.rawValue, String(start), String(currentMilliseconds()), betKeyPrefix, String(entries.count), eventID])
        }
        /// A window of entries read from `start`, cut into consecutive batches of at most `batchSize`
        /// work, so a window full of winners with money does not make one long call.
        func batchesOfWork(from start: Int, _ entries: [String]) -> [(start: Int, entries: [String])] {
            guard result != .lose else { return entries.isEmpty ? [] : [(start, entries)] }
            var cut: [(start: Int, entries: [String])] = []
            var first = 0
            var work = 0
            for (index, entry) in entries.enumerated() {
                let cost = entry.utf8.contains(UInt8(ascii: ":")) ? Self.payoutCost : 1
                if work + cost > batchSize, index > first {
                    cut.append((start + first, Array(entries[first..<index])))
                    (first, work) = (index, 0)
                }
                work += cost
            }
            if first < entries.count { cut.append((start + first, Array(entries[first...]))) }
            return cut
        }
        func readCommand(start: Int) -> RedisCommand {
            RedisCommand("LRANGE", list, start, start + batchSize - 1)
        }

        var flipped = 0
        var batches = 0
        func note(_ outcome: Outcome, count: Int) async throws -> Report? {
            if outcome.applied {
                flipped += count
                batches += 1
                try await appendToFeed(outcome, eventID: eventID, result: result)
            }
            guard outcome.finished else { return nil }
            // A step of its own (the index is in another slot); repeated, it changes nothing.
            _ = try await redis.send(RedisCommand("ZREM", keys.unsettledEvents(shard: keys.shard(of: eventID)), eventID))
            return Report(
                eventID: eventID, result: result, won: outcome.won, lost: outcome.lost, paidOut: outcome.paidOut,
                voided: outcome.voided, refunded: outcome.refunded, flipped: flipped, batches: batches)
        }

        while true {
            // Where settlement stands (a call without bets), and the ids of the first two batches.
            let plan = try Outcome(
                try await redis.eval(
                    Scripts.settleBatch, keys: fixedKeys,
                    arguments: [result.rawValue, "-1", String(currentMilliseconds()), betKeyPrefix, "0", eventID]))
            if let report = try await note(plan, count: 0) { return report }
            let firstReads = try await connection.pipeline([
                readCommand(start: plan.position), readCommand(start: plan.position + batchSize),
            ])
            var upcoming: [(start: Int, entries: [String])] = []
            for (offset, reply) in firstReads.enumerated() {
                upcoming += batchesOfWork(from: plan.position + offset * batchSize, try reply.get().strings(for: "LRANGE"))
            }
            var readFrom = plan.position + 2 * batchSize
            var inFlight: [(count: Int, reads: Int?, batch: SubmittedBatch)] = []
            while true {
                while inFlight.count < 2, !upcoming.isEmpty {
                    let next = upcoming.removeFirst()
                    var commands = [settleCommand(start: next.start, entries: next.entries)]
                    var reads: Int?
                    if readFrom < plan.total {
                        commands.append(readCommand(start: readFrom))
                        reads = readFrom
                        readFrom += batchSize
                    }
                    inFlight.append((next.entries.count, reads, connection.submit(commands)))
                }
                guard !inFlight.isEmpty else { break }
                let (count, reads, batch) = inFlight.removeFirst()
                let replies = try await batch.replies()
                let outcome = try Outcome(try replies[0].get())
                if let report = try await note(outcome, count: count) { return report }
                if !outcome.applied {
                    // Another worker is settling this event too: let the batch still in flight
                    // finish (it may apply, if the other stopped right before it), then plan again.
                    for (count, _, batch) in inFlight {
                        if let outcome = try? Outcome(try await batch.replies()[0].get()),
                            let report = try await note(outcome, count: count)
                        {
                            return report
                        }
                    }
                    break
                }
                if let reads, replies.count > 1 {
                    upcoming += batchesOfWork(from: reads, try replies[1].get().strings(for: "LRANGE"))
                }
                try await afterBatch()
                if pause > .zero { try await Task.sleep(for: pause) }
            }
        }
    }

    /// The KEYS of a batch after the event's three: each entry's bet, in list order (as `settle_batch`
    /// checks them).
    func batchKeys(eventID: String, _ entries: [String]) -> [String] {
        entries.map { text in
            // A damaged entry names no bet: its text stands in, and the script refuses the batch, so
            // the stream entry is retried until it is dead-lettered.
            let entry = EventListEntry(text) ?? EventListEntry(serial: text)
            return keys.bet(BetID(eventID: eventID, serial: entry.serial))
        }
    }

    /// The live feed's entry for an applied batch, appended right after it (no script writes the feed:
    /// a crash between the two loses one live update, and browsers read the truth on their next load).
    private func appendToFeed(_ outcome: Outcome, eventID: String, result: EventResult) async throws {
        _ = try await redis.xadd(
            keys.feed,
            fields: [
                "type": "settlement", "event_id": eventID, "result": result.rawValue, "settled": String(outcome.position),
                "total": String(outcome.total), "won": String(outcome.won), "lost": String(outcome.lost), "void": String(outcome.voided),
                "paid": String(outcome.paidOut.cents), "refunded": String(outcome.refunded.cents), "users": outcome.users,
            ], approximateMaxLength: RedisKeys.feedLength)
    }

    /// One `settle_batch` reply.
    private struct Outcome {
        let applied: Bool
        let position: Int
        let total: Int
        let finished: Bool
        let won: Int
        let lost: Int
        let paidOut: Money
        let voided: Int
        let refunded: Money
        /// The users of the batch's bets with money, comma-separated.
        let users: String

        init(_ reply: RESPValue) throws {
            let values = try reply.array(for: "settle_batch")
            let numbers = values.dropFirst().dropLast().compactMap { $0.string.flatMap(Int.init) }
            guard values.count == 10, numbers.count == 8, let state = values[0].string, state == "applied" || state == "stale",
                let users = values[9].string
            else {
                throw reply.unexpected("settle_batch")
            }
            self.users = users
            applied = state == "applied"
            (position, total, finished, won, lost) = (numbers[0], numbers[1], numbers[2] == 1, numbers[3], numbers[4])
            paidOut = Money(cents: Int64(numbers[5]))
            voided = numbers[6]
            refunded = Money(cents: Int64(numbers[7]))
        }
    }
}
