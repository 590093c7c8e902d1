import RedisClient

/// The events stream as a queue, around what the worker reads and settles: trimming what every
/// consumer group is done with, queueing again the events left unsettled, and the dead letters
/// (moving an entry there, listing them, re-driving one). The worker and the administrators' API
/// use it; each change is one script (`Storage/Scripts`: `trim_stream`, `requeue_overdue`,
/// `dead_letter`, `retry_dead_letter`).
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
    public func trim() async throws -> Int {
        try await redis.eval(Scripts.trimStream, keys: [keys.eventsStream]).int(for: "trim_stream")
    }

    // MARK: Events left unsettled

    /// Queues again every event reported at least `threshold` ago that still has no `settled_at` and
    /// was not queued again within `threshold` (its stream entry was lost, or settling it keeps
    /// failing without reaching the dead-letter stream). Candidates are read from the index of
    /// unsettled events in pages; each page is one `requeue_overdue` call, which checks each event
    /// again. Returns the ids queued again.
    public func requeueOverdue(
        after threshold: Duration, now: Int64 = currentMilliseconds(), pageSize: Int = 100, maximumPages: Int = 10
    ) async throws -> [String] {
        let cutoff = Double(now - threshold.inMilliseconds)
        var requeued: [String] = []
        var offset = 0
        for _ in 0..<maximumPages {
            let candidates = try await redis.zrangeByScore(
                keys.unsettledEvents, min: .negativeInfinity, max: .inclusive(cutoff), limit: (offset, pageSize)
            ).map(\.member)
            // A member that is not an event id cannot name a key; it is left for the invariant checker.
            let ids = candidates.filter { EventID.isValid($0) }
            if !ids.isEmpty {
                let reply = try await redis.eval(
                    Scripts.requeueOverdue, keys: [keys.eventsStream, keys.unsettledEvents] + ids.map(keys.event),
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
    public func overdueCountCommand(after threshold: Duration, now: Int64 = currentMilliseconds()) -> RedisCommand {
        RedisCommand("ZCOUNT", keys.unsettledEvents, "-inf", now - threshold.inMilliseconds)
    }

    // MARK: Dead letters

    /// Moves `entry` to the dead-letter stream and acknowledges it, in one step. With `park`, the
    /// entry's event (a well-formed entry given up on after too many deliveries) leaves the index of
    /// unsettled events until it is re-driven, so it is not queued again and again.
    public func deadLetter(_ entry: StreamEntry, reason: String, deliveries: Int, park eventID: String? = nil) async throws {
        var scriptKeys = [keys.eventsStream, keys.deadLetters]
        if let eventID { scriptKeys += [keys.unsettledEvents, keys.event(eventID)] }
        var arguments = [group, entry.id, reason, String(deliveries), String(deadLetterMaxLength), eventID ?? ""]
        for (field, value) in (entry.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            arguments += [field, value]
        }
        try await redis.eval(Scripts.deadLetter, keys: scriptKeys, arguments: arguments)
    }

    /// Dead letters newest first, `limit` at most, older than `cursor` (a dead letter's id).
    public func deadLetters(limit: Int, before cursor: String?) async throws -> (letters: [DeadLetter], nextCursor: String?) {
        let reply = try await redis.send(
            RedisCommand("XREVRANGE", keys.deadLetters, cursor.map { "(" + $0 } ?? "+", "-", "COUNT", limit + 1)
        ).array(for: "XREVRANGE")
        var letters: [DeadLetter] = []
        for value in reply.prefix(limit) {
            let pair = try value.array(for: "XREVRANGE")
            guard pair.count == 2 else { throw value.unexpected("XREVRANGE") }
            letters.append(DeadLetter(id: try pair[0].string(for: "XREVRANGE"), values: try pair[1].strings(for: "XREVRANGE")))
        }
        return (letters, reply.count > limit ? letters.last?.id : nil)
    }

    public func deadLetter(id: String) async throws -> DeadLetter? {
        let reply = try await redis.send(RedisCommand("XRANGE", keys.deadLetters, id, id)).array(for: "XRANGE")
        guard let value = reply.first else { return nil }
        let pair = try value.array(for: "XRANGE")
        guard pair.count == 2 else { throw value.unexpected("XRANGE") }
        return DeadLetter(id: try pair[0].string(for: "XRANGE"), values: try pair[1].strings(for: "XRANGE"))
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

    /// Re-drives a dead letter (`retry_dead_letter`): a new entry on the events stream with the
    /// original fields and `redriven_from`, the dead letter deleted, the event back in the index of
    /// unsettled events, in one step. The dead letter is read first for its event's key; the script
    /// checks it again.
    public func retryDeadLetter(id: String) async throws -> RetryOutcome {
        guard let letter = try await deadLetter(id: id) else { return .missing }
        guard let eventID = letter.field("event_id"), EventID.isValid(eventID),
            let result = letter.field("result"), EventResult(rawValue: result) != nil
        else { return .malformed }
        let reply = try await redis.eval(
            Scripts.retryDeadLetter, keys: [keys.deadLetters, keys.eventsStream, keys.unsettledEvents, keys.event(eventID)],
            arguments: [id, eventID, String(currentMilliseconds()), keys.prefix]
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
