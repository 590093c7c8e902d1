import Metrics
import RedisClient

/// The settlement backlog of every shard together as gauges, read from Redis when metrics are scraped (so they are current
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
        let now = currentMilliseconds()
        let commands = keys.allShards.flatMap { shard in
            [
                RedisCommand("XLEN", keys.eventsStream(shard: shard)),
                RedisCommand("XPENDING", keys.eventsStream(shard: shard), queue.group),
                RedisCommand("XLEN", keys.deadLetters(shard: shard)),
                queue.overdueCountCommand(shard: shard, after: overdueAfter, now: now),
            ]
        }
        guard let replies = try? await redis.pipeline(commands), replies.count == commands.count else { return }
        // A gauge is recorded only when every shard answered: a partial sum would dip.
        var sums: [Int64?] = [0, 0, 0, 0]
        for (index, reply) in replies.enumerated() {
            var value: Int64?
            switch try? reply.get() {
            case .integer(let number)?: value = Int64(number)
            case .array(let summary)?: if case .integer(let number)? = summary.first { value = Int64(number) }
            default: break
            }
            sums[index % 4] = value.flatMap { value in sums[index % 4].map { $0 + value } }
        }
        if let value = sums[0] { length.record(value) }
        if let value = sums[1] { pending.record(value) }
        if let value = sums[2] { deadLetters.record(value) }
        if let value = sums[3] { overdue.record(value) }
    }
}
