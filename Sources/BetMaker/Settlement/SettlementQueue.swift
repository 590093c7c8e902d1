import RedisClient

/// The shards' events streams as queues, around what the worker reads and settles: trimming what every
/// consumer group is done with, queueing again the events left unsettled, and the dead letters
/// (moving an entry there, listing them across the shards, re-driving one). The worker (a loop per
/// shard) and the administrators' API use it; each change is one script in one shard's slot
/// (`Storage/Scripts`: `trim_stream`, `requeue_overdue`, `dead_letter`, `retry_dead_letter`).
public struct SettlementQueue: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// The workers' consumer group.
    public let group: String
    /// The consumer group the workers read the events stream through, unless configured otherwise.
    public static let consumerGroup = "settlement"
    /// The dead-letter stream is capped near this many entries (`MAXLEN ~`).
    public var deadLetterMaxLength = 100_000

    public init(redis: RedisClient, keys: RedisKeys, group: String = SettlementQueue.consumerGroup) {
        self.redis = redis
        self.keys = keys
        self.group = group
    }

    // MARK: Trimming

    /// Drops the entries every consumer group is done with, in one step (`trim_stream`): nothing a
    /// consumer has read and not acknowledged, nor anything a group has not read yet. Returns how many.
    @discardableResult
    public func trim(shard: Int) async throws -> Int {
        try await redis.eval(Scripts.trimStream, keys: [keys.eventsStream(shard: shard)]).int(for: "trim_stream")
    }

    // MARK: Events left unsettled

    /// Queues again every event of the shard reported at least `threshold` ago that still has no `settled_at` and
    /// was not queued again within `threshold` (its stream entry was lost, or settling it keeps
    /// failing without reaching the dead-letter stream). Candidates are read from the index of
    /// unsettled events in pages; each page is one `requeue_overdue` call, which checks each event
    /// again. Returns the ids queued again.
    public func requeueOverdue(
        shard: Int, after threshold: Duration, now: Int64 = currentMilliseconds(), pageSize: Int = 100, maximumPages: Int = 10
    ) async throws -> [String] {
        let cutoff = Double(now - threshold.inMilliseconds)
        var requeued: [String] = []
        var offset = 0
        for _ in 0..<maximumPages {
            let candidates = try await redis.zrangeByScore(
                keys.unsettledEvents(shard: shard), min: .negativeInfinity, max: .inclusive(cutoff), limit: (offset, pageSize)
            ).map(\.member)
            // A member that is not an event id of the shard cannot name a key in its slot; it is left
            // for the invariant checker.
            let ids = candidates.filter { EventID.isValid($0) && keys.shard(of: $0) == shard }
            if !ids.isEmpty {
                let reply = try await redis.eval(
                    Scripts.requeueOverdue,
                    keys: [keys.eventsStream(shard: shard), keys.unsettledEvents(shard: shard)] + ids.map(keys.event),
                    arguments: [String(now), String(threshold.inMilliseconds)] + ids
                ).array(for: "requeue_overdue")
                guard reply.count == 2 else { throw RESPValue.array(reply).unexpected("requeue_overdue") }
                requeued += try reply[0].strings(for: "requeue_overdue")
                // Members removed from the index no longer count towards the offset.
                offset -= try reply[1].int(for: "requeue_overdue")
            }
            guard candidates.count == pageSize else { break }
            offset += pageSize
        }
        return requeued
    }

    /// `ZCOUNT` of the events reported at least `threshold` before `now` and still unsettled (not
    /// parked), for the `events_settlement_overdue` gauge.
    public func overdueCountCommand(shard: Int, after threshold: Duration, now: Int64 = currentMilliseconds()) -> RedisCommand {
        RedisCommand("ZCOUNT", keys.unsettledEvents(shard: shard), "-inf", now - threshold.inMilliseconds)
    }

    // MARK: Dead letters

    /// Moves `entry` of the shard's stream to the shard's dead-letter stream and acknowledges it, in one
    /// step. With `park`, the entry's event (a well-formed entry given up on after too many deliveries)
    /// leaves the index of unsettled events until it is re-driven, so it is not queued again and again;
    /// only an event of the shard is parked (another's keys are in another slot).
    public func deadLetter(_ entry: StreamEntry, shard: Int, reason: String, deliveries: Int, park eventID: String? = nil) async throws {
        let parked = eventID.flatMap { keys.shard(of: $0) == shard ? $0 : nil }
        var scriptKeys = [keys.eventsStream(shard: shard), keys.deadLetters(shard: shard)]
        if let parked { scriptKeys += [keys.unsettledEvents(shard: shard), keys.event(parked)] }
        var arguments = [group, entry.id, reason, String(deliveries), String(deadLetterMaxLength), parked ?? ""]
        for (field, value) in (entry.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            arguments += [field, value]
        }
        try await redis.eval(Scripts.deadLetter, keys: scriptKeys, arguments: arguments)
    }

    /// Dead letters of every shard newest first (by entry id, then shard), `limit` at most, after
    /// `cursor` (a dead letter's id, `DeadLetter.ID`) in that order: each shard's next `limit + 1`,
    /// merged.
    public func deadLetters(limit: Int, before cursor: String?) async throws -> (letters: [DeadLetter], nextCursor: String?) {
        let after = cursor.flatMap(DeadLetter.ID.init)
        let commands = keys.allShards.map { shard in
            // An entry id equal to the cursor's comes after it in a lower shard only.
            let bound = after.map { shard < $0.shard ? $0.entryID : "(" + $0.entryID } ?? "+"
            return RedisCommand("XREVRANGE", keys.deadLetters(shard: shard), bound, "-", "COUNT", limit + 1)
        }
        var letters: [DeadLetter] = []
        for (shard, reply) in zip(keys.allShards, try await redis.pipeline(commands)) {
            for value in try reply.get().array(for: "XREVRANGE") { letters.append(try Self.letter(value, shard: shard)) }
        }
        letters.sort { newer, older in
            StreamID.precedes(older.streamID, newer.streamID) || (older.streamID == newer.streamID && older.shard < newer.shard)
        }
        let page = Array(letters.prefix(limit))
        return (page, letters.count > limit ? page.last?.id : nil)
    }

    /// The dead letter with this id (`DeadLetter.ID`), or nil.
    public func deadLetter(id: String) async throws -> DeadLetter? {
        guard let id = DeadLetter.ID(id), id.shard < keys.shards else { return nil }
        let reply = try await redis.send(RedisCommand("XRANGE", keys.deadLetters(shard: id.shard), id.entryID, id.entryID))
            .array(for: "XRANGE")
        return try reply.first.map { try Self.letter($0, shard: id.shard) }
    }

    private static func letter(_ value: RESPValue, shard: Int) throws -> DeadLetter {
        let pair = try value.array(for: "XRANGE")
        guard pair.count == 2 else { throw value.unexpected("XRANGE") }
        return DeadLetter(shard: shard, streamID: try pair[0].string(for: "XRANGE"), values: try pair[1].strings(for: "XRANGE"))
    }

    public enum RetryOutcome: Sendable, Equatable {
        /// Queued again as `entryID` on the events stream; the dead letter is gone.
        case retried(entryID: String, eventID: String)
        case missing
        /// Not an entry that can settle anything: no valid event id or a result other than WIN, LOSE or VOID.
        case malformed
        /// The event has no result recorded (only a hand-made entry could say otherwise).
        case noResult(eventID: String)
        /// The entry's result is not the one recorded for the event.
        case resultMismatch(eventID: String, recorded: String, entry: String)
    }

    /// Re-drives a dead letter (`retry_dead_letter`): a new entry on its shard's events stream with the
    /// original fields and `redriven_from`, the dead letter deleted, the event back in the index of
    /// unsettled events, in one step. The dead letter is read first for its event's key; the script
    /// checks it again. An entry naming an event of another shard cannot be re-driven in one slot:
    /// it is malformed (only a hand-made entry names one).
    public func retryDeadLetter(id: String) async throws -> RetryOutcome {
        guard let letter = try await deadLetter(id: id) else { return .missing }
        guard let eventID = letter.field("event_id"), EventID.isValid(eventID), keys.shard(of: eventID) == letter.shard,
            let result = letter.field("result"), EventResult(rawValue: result) != nil
        else { return .malformed }
        let shard = letter.shard
        let reply = try await redis.eval(
            Scripts.retryDeadLetter,
            keys: [
                keys.deadLetters(shard: shard), keys.eventsStream(shard: shard), keys.unsettledEvents(shard: shard), keys.event(eventID),
            ],
            arguments: [letter.streamID, eventID, String(currentMilliseconds()), keys.shardTag(shard) + ":{ev:"]
        ).strings(for: "retry_dead_letter")
        switch reply.first {
        case "retried" where reply.count == 2: return .retried(entryID: reply[1], eventID: eventID)
        case "missing": return .missing
        case "malformed": return .malformed
        case "no_result": return .noResult(eventID: eventID)
        case "result_mismatch" where reply.count == 2: return .resultMismatch(eventID: eventID, recorded: reply[1], entry: result)
        default: throw RedisError.unexpectedReply(command: "retry_dead_letter", reply: "\(reply)")
        }
    }
}
