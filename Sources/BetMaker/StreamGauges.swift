import Metrics
import RedisClient

/// The settlement backlog as gauges, read from Redis when metrics are scraped (so they are current
/// however long ago the worker last looked): entries in the events stream, entries delivered but not
/// yet acknowledged, and entries in the dead-letter stream.
public struct StreamGauges: Sendable {
    let redis: RedisClient
    let keys: RedisKeys
    let group: String
    let length = Gauge(label: "events_stream_length")
    let pending = Gauge(label: "events_stream_pending")
    let deadLetters = Gauge(label: "events_dead_letter_length")

    public init(redis: RedisClient, keys: RedisKeys, group: String = SettlementWorker.Configuration(consumer: "").group) {
        self.redis = redis
        self.keys = keys
        self.group = group
    }

    /// Best effort: with Redis away, the gauges keep their last values and the scrape still answers.
    public func sample() async {
        let replies = try? await redis.pipeline([
            RedisCommand("XLEN", keys.eventsStream), RedisCommand("XPENDING", keys.eventsStream, group),
            RedisCommand("XLEN", keys.deadLetters),
        ])
        guard let replies, replies.count == 3 else { return }
        if case .integer(let value)? = try? replies[0].get() { length.record(value) }
        if case .array(let summary)? = try? replies[1].get(), case .integer(let value)? = summary.first { pending.record(value) }
        if case .integer(let value)? = try? replies[2].get() { deadLetters.record(value) }
    }
}
