/// Every Redis key bet-maker uses, in one place. docs/ARCHITECTURE.md explains each.
///
/// Per-event keys share the hash tag `{ev:<id>}`, so on Redis Cluster an event's hash and bet list
/// live in one slot and its settlement stays a single-slot script.
public struct RedisKeys: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Hash of one bet: event_id, amount (cents), status, created_at, settled_at (ms).
    public func bet(_ id: String) -> String { prefix + "bet:" + id }

    /// Hash of one event: result, reported_at, counts, total staked, settlement progress.
    public func event(_ eventID: String) -> String { prefix + "{ev:" + eventID + "}" }

    /// List of the event's bet ids in the order they were accepted; append-only.
    public func eventBets(_ eventID: String) -> String { prefix + "{ev:" + eventID + "}:bets" }

    /// Sorted set of every bet id (all scores 0, ordered by id = by time). Settlement does not touch
    /// it: a bet's status lives only in its hash.
    public var allBets: String { prefix + "bets" }

    /// Stream of reported results, read by the workers' consumer group.
    public var eventsStream: String { prefix + "events" }

    /// Stream of entries the workers gave up on.
    public var deadLetters: String { prefix + "events:dead" }

    /// Saved response of a request made with an Idempotency-Key (the key's SHA-256 in hex).
    public func idempotency(_ digest: String) -> String { prefix + "idem:" + digest }
}
