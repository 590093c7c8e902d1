import Metrics
import RedisClient

/// The settlement backlog as gauges, read from Redis when metrics are scraped (so they are current
/// however long ago the worker last looked): entries in the events stream, entries delivered but not
/// yet acknowledged, entries in the dead-letter stream, and events whose result has waited longer
/// than `overdueAfter` (`WORKER_REQUEUE_AFTER_MS`) without being settled (parked ones not counted).
public struct StreamGauges: Sendable {
    let redis: RedisClient
    let queue: SettlementQueue
    let overdueAfter: Duration
    let length = Gauge(label: "events_stream_length")
    let pending = Gauge(label: "events_stream_pending")
    let deadLetters = Gauge(label: "events_dead_letter_length")
    let overdue = Gauge(label: "events_settlement_overdue")

    public init(redis: RedisClient, keys: RedisKeys, overdueAfter: Duration, group: String = SettlementQueue.consumerGroup) {
        self.redis = redis
        self.queue = SettlementQueue(redis: redis, keys: keys, group: group)
        self.overdueAfter = overdueAfter
    }

    /// Best effort: with Redis away, the gauges keep their last values and the scrape still answers.
    public func sample() async {
        let keys = queue.keys
        let replies = try? await redis.pipeline([
            RedisCommand("XLEN", keys.eventsStream), RedisCommand("XPENDING", keys.eventsStream, queue.group),
            RedisCommand("XLEN", keys.deadLetters), queue.overdueCountCommand(after: overdueAfter),
        ])
        guard let replies, replies.count == 4 else { return }
        if case .integer(let value)? = try? replies[0].get() { length.record(value) }
        if case .array(let summary)? = try? replies[1].get(), case .integer(let value)? = summary.first { pending.record(value) }
        if case .integer(let value)? = try? replies[2].get() { deadLetters.record(value) }
        if case .integer(let value)? = try? replies[3].get() { overdue.record(value) }
    }
}
