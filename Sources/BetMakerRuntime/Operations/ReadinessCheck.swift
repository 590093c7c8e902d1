import BetMaker
import RedisClient

/// One thing `/health/ready` checks, under the name its answer shows.
public struct ReadinessCheck: Sendable {
    public let name: String
    /// Throws what is wrong; may first repair what it can.
    public let run: @Sendable () async throws -> Void

    public init(_ name: String, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.run = run
    }

    /// What both processes need of the store: Redis answers `PING`, every script is in Redis's cache
    /// (loaded again after a restart or `SCRIPT FLUSH`), and the settlement stream's consumer group
    /// exists (created if missing, at `0`, so no result reported before it is skipped).
    public static func store(redis: RedisClient, keys: RedisKeys) -> [ReadinessCheck] {
        [
            ReadinessCheck("redis") { _ = try await redis.ping() },
            ReadinessCheck("scripts") { if try await !redis.scriptsExist(Scripts.all) { try await redis.load(Scripts.all) } },
            ReadinessCheck("consumer_group") {
                try await redis.xgroupCreate(keys.eventsStream, group: SettlementQueue.consumerGroup, startingAt: "0")
            },
        ]
    }
}
