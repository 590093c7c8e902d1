import Metrics
import RedisClient

/// The ESP outbox as a queue: the stream the contact scripts append to, read by the workers through
/// the consumer group `esp` (at least once, as settlement reads the events stream), the retry set of
/// messages waiting for their next attempt, and the dead letters. Each change is one script
/// (`Storage/Scripts/Scripts+ContactOutbox.swift`).
public struct ContactOutbox: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let group: String
    public static let consumerGroup = "esp"
    /// The dead-letter stream is capped near this many entries (`MAXLEN ~`).
    public var deadLetterMaxLength = 100_000

    public init(redis: RedisClient, keys: RedisKeys, group: String = ContactOutbox.consumerGroup) {
        self.redis = redis
        self.keys = keys
        self.group = group
    }

    /// One message: create or erase the contact with this subscriber hash; `attempt` ESP calls were
    /// tried for it before.
    public struct Message: Sendable, Equatable {
        public enum Operation: String, Sendable { case create, erase }
        public let id: String
        public let operation: Operation
        public let subscriberHash: String
        public let attempt: Int

        /// Nil for an entry that is not a message (deleted since delivery, or written by hand).
        public init?(_ entry: StreamEntry) {
            guard let fields = entry.fields, let operation = fields["op"].flatMap(Operation.init(rawValue:)),
                let hash = fields["hash"], hash.utf8.count == 32, hash.utf8.allSatisfy({ EmailAddress.isLowerHex($0) })
            else { return nil }
            id = entry.id
            self.operation = operation
            subscriberHash = hash
            attempt = fields["attempt"].flatMap { Int($0) } ?? 0
        }
    }

    /// The address to create, read from the contact (the message carries only the hash); nil when the
    /// contact was erased meanwhile, so there is nothing to create.
    public func address(of message: Message) async throws -> EmailAddress? {
        try await redis.hget(keys.contact(message.subscriberHash), "email").flatMap { EmailAddress(normalizing: $0) }
    }

    public func delivered(_ message: Message, attempts: Int, now: Int64 = currentMilliseconds()) async throws {
        _ = try await redis.eval(
            Scripts.outboxDelivered, keys: [keys.contactOutbox, keys.contact(message.subscriberHash)],
            arguments: [group, message.id, message.operation.rawValue, String(now), String(attempts)])
    }

    public func retryLater(_ message: Message, at due: Int64, attempts: Int, error: String) async throws {
        _ = try await redis.eval(
            Scripts.outboxRetryLater,
            keys: [keys.contactOutbox, keys.contactOutboxRetries, keys.contact(message.subscriberHash)],
            arguments: [
                group, message.id, String(due), message.operation.rawValue, message.subscriberHash, String(attempts), error,
            ])
    }

    public func deadLetter(_ message: Message, attempts: Int, reason: String) async throws {
        _ = try await redis.eval(
            Scripts.outboxDeadLetter,
            keys: [keys.contactOutbox, keys.contactOutboxDeadLetters, keys.contact(message.subscriberHash)],
            arguments: [
                group, message.id, message.operation.rawValue, message.subscriberHash, String(attempts), reason,
                String(deadLetterMaxLength),
            ])
    }

    /// An entry that is no message: acknowledged, so it does not come back.
    public func discard(_ entryID: String) async throws {
        try await redis.xack(keys.contactOutbox, group: group, ids: [entryID])
    }

    /// Puts the messages whose retry is due back into the stream; how many.
    @discardableResult
    public func releaseDue(now: Int64 = currentMilliseconds(), limit: Int = 100) async throws -> Int {
        try await redis.eval(
            Scripts.outboxRelease, keys: [keys.contactOutboxRetries, keys.contactOutbox], arguments: [String(now), String(limit)]
        ).int(for: "outbox_release")
    }

    /// The outbox's backlog for the gauges, sampled when metrics are scraped: entries in the stream,
    /// entries delivered and not acknowledged, messages waiting to be retried, dead letters.
    public var gaugeCommands: [RedisCommand] {
        [
            RedisCommand("XLEN", keys.contactOutbox), RedisCommand("XPENDING", keys.contactOutbox, group),
            RedisCommand("ZCARD", keys.contactOutboxRetries), RedisCommand("XLEN", keys.contactOutboxDeadLetters),
        ]
    }
}

/// The outbox's backlog as gauges, read from Redis when metrics are scraped, as `StreamGauges` are:
/// `esp_outbox_length`, `esp_outbox_pending`, `esp_outbox_retrying`, `esp_outbox_dead_letter_length`.
public struct ContactOutboxGauges: Sendable {
    let outbox: ContactOutbox
    let gauges = [
        Gauge(label: "esp_outbox_length"), Gauge(label: "esp_outbox_pending"), Gauge(label: "esp_outbox_retrying"),
        Gauge(label: "esp_outbox_dead_letter_length"),
    ]

    public init(redis: RedisClient, keys: RedisKeys) {
        outbox = ContactOutbox(redis: redis, keys: keys)
    }

    /// Best effort: with Redis away (or no worker having made the group yet), a gauge keeps its last value.
    public func sample() async {
        guard let replies = try? await outbox.redis.pipeline(outbox.gaugeCommands), replies.count == gauges.count else { return }
        for (gauge, reply) in zip(gauges, replies) {
            switch try? reply.get() {
            case .integer(let value)?: gauge.record(value)
            case .array(let summary)?: if case .integer(let value)? = summary.first { gauge.record(value) }
            default: break
            }
        }
    }
}
