import Metrics
import RedisClient

/// The ESP outbox as a queue: the stream the contact scripts append to, read by the workers through
/// the consumer group `esp` (at least once, as settlement reads the events stream), the retry set of
/// messages waiting for their next attempt, and the dead letters. Each shard of contacts has its own
/// (`RedisKeys.contactOutbox(shard:)`), beside its contacts, so each change is one single-slot script
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

    /// One message of a shard's outbox: create or erase the contact with this subscriber hash;
    /// `attempt` ESP calls were tried for it before.
    public struct Message: Sendable, Equatable {
        public enum Operation: String, Sendable { case create, erase }
        public let shard: Int
        public let id: String
        public let operation: Operation
        public let subscriberHash: String
        public let attempt: Int

        /// Nil for an entry that is not a message (deleted since delivery, or written by hand), or one
        /// naming a contact of another shard than the outbox it was read from (`keys`).
        public init?(_ entry: StreamEntry, shard: Int, keys: RedisKeys) {
            guard let fields = entry.fields, let operation = fields["op"].flatMap(Operation.init(rawValue:)),
                let hash = fields["hash"], hash.utf8.count == 32, hash.utf8.allSatisfy({ EmailAddress.isLowerHex($0) }),
                keys.shard(of: hash) == shard
            else { return nil }
            self.shard = shard
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
            Scripts.outboxDelivered, keys: [keys.contactOutbox(shard: message.shard), keys.contact(message.subscriberHash)],
            arguments: [group, message.id, message.operation.rawValue, String(now), String(attempts)])
    }

    public func retryLater(_ message: Message, at due: Int64, attempts: Int, error: String) async throws {
        _ = try await redis.eval(
            Scripts.outboxRetryLater,
            keys: [
                keys.contactOutbox(shard: message.shard), keys.contactOutboxRetries(shard: message.shard),
                keys.contact(message.subscriberHash),
            ],
            arguments: [
                group, message.id, String(due), message.operation.rawValue, message.subscriberHash, String(attempts), error,
            ])
    }

    public func deadLetter(_ message: Message, attempts: Int, reason: String) async throws {
        _ = try await redis.eval(
            Scripts.outboxDeadLetter,
            keys: [
                keys.contactOutbox(shard: message.shard), keys.contactOutboxDeadLetters(shard: message.shard),
                keys.contact(message.subscriberHash),
            ],
            arguments: [
                group, message.id, message.operation.rawValue, message.subscriberHash, String(attempts), reason,
                String(deadLetterMaxLength),
            ])
    }

    /// An entry of a shard's outbox that is no message: acknowledged, so it does not come back.
    public func discard(_ entryID: String, shard: Int) async throws {
        try await redis.xack(keys.contactOutbox(shard: shard), group: group, ids: [entryID])
    }

    /// Puts a shard's messages whose retry is due back into its stream; how many.
    @discardableResult
    public func releaseDue(shard: Int, now: Int64 = currentMilliseconds(), limit: Int = 100) async throws -> Int {
        try await redis.eval(
            Scripts.outboxRelease, keys: [keys.contactOutboxRetries(shard: shard), keys.contactOutbox(shard: shard)],
            arguments: [String(now), String(limit)]
        ).int(for: "outbox_release")
    }

    /// A shard's backlog for the gauges, sampled when metrics are scraped: entries in the stream,
    /// entries delivered and not acknowledged, messages waiting to be retried, dead letters.
    public func gaugeCommands(shard: Int) -> [RedisCommand] {
        [
            RedisCommand("XLEN", keys.contactOutbox(shard: shard)), RedisCommand("XPENDING", keys.contactOutbox(shard: shard), group),
            RedisCommand("ZCARD", keys.contactOutboxRetries(shard: shard)),
            RedisCommand("XLEN", keys.contactOutboxDeadLetters(shard: shard)),
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

    /// The shards' sums. Best effort: with Redis away (or no worker having made a group yet), a gauge
    /// keeps its last value.
    public func sample() async {
        let shards = outbox.keys.shards
        let commands = (0..<shards).flatMap { outbox.gaugeCommands(shard: $0) }
        guard let replies = try? await outbox.redis.pipeline(commands), replies.count == gauges.count * shards else { return }
        gauges: for (index, gauge) in gauges.enumerated() {
            var total: Int64 = 0
            for shard in 0..<shards {
                switch try? replies[shard * gauges.count + index].get() {
                case .integer(let value)?: total += value
                case .array(let summary)?: if case .integer(let value)? = summary.first { total += value } else { continue gauges }
                default: continue gauges
                }
            }
            gauge.record(total)
        }
    }
}
