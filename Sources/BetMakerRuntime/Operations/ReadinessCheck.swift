import BetMaker
import RedisClient

/// One thing `/health/ready` checks, under the name its answer shows.
public struct ReadinessCheck: Sendable {
    public let name: String
    /// Throws what is wrong; may first repair what it can.
    public let run: @Sendable () async throws -> Void
    /// Shown, but not failing readiness: a stale price feed stops trades, not bets, payments or
    /// settlement, so the process stays in rotation.
    public var informational = false

    public init(_ name: String, informational: Bool = false, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.informational = informational
        self.run = run
    }

    /// What both processes need of the store: Redis answers `PING`, every script is in Redis's cache
    /// (loaded again after a restart or `SCRIPT FLUSH`), and every shard's settlement stream has its
    /// consumer group (created if missing, at `0`, so no result reported before it is skipped).
    public static func store(redis: RedisClient, keys: RedisKeys) -> [ReadinessCheck] {
        [
            ReadinessCheck("redis") { _ = try await redis.ping() },
            ReadinessCheck("scripts") { if try await !redis.scriptsExist(Scripts.all) { try await redis.load(Scripts.all) } },
            ReadinessCheck("consumer_group") {
                for shard in keys.allShards {
                    try await redis.xgroupCreate(keys.eventsStream(shard: shard), group: SettlementQueue.consumerGroup, startingAt: "0")
                }
            },
        ]
    }

    /// `stale: BTC is 300 s old` while a symbol's latest quote is missing or older than `maximumAge`
    /// (trades are refused then, and due trades wait); informational, see `informational`.
    public static func quotes(_ gauges: QuoteGauges, maximumAge: Duration) -> ReadinessCheck {
        ReadinessCheck("price_feed", informational: true) {
            let stale = try await gauges.staleQuotes(maximumAge: maximumAge)
            guard stale.isEmpty else {
                throw StaleQuotes(
                    description: "stale: "
                        + stale.map { "\($0.symbol) " + ($0.age.map { "is \($0 / 1000) s old" } ?? "has no quote") }
                        .joined(separator: ", "))
            }
        }
    }

    struct StaleQuotes: Error, CustomStringConvertible {
        let description: String
    }
}
