import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The client buckets (`take_token`) against a real Redis.
@Suite struct RateLimitsTests {
    static let keys = RedisKeys(prefix: "t:")

    @Test func aBucketGivesItsBurstThenRefusesWithTheWait() async throws {
        try await withRedis { (_, redis) async throws in
            let limits = RateLimits(redis: redis, keys: Self.keys)
            let limit = RateLimit(perMinute: 1, burst: 3)
            let started = ContinuousClock.now
            for _ in 0..<3 { #expect(try await limits.take(.plays, client: "192.0.2.1", limit: limit) == nil) }
            let wait = try #require(try await limits.take(.plays, client: "192.0.2.1", limit: limit))
            // The next token is due a minute after the first was taken: the wait is that minute less the
            // time the four calls took (seconds on a loaded machine), to Redis's millisecond.
            let elapsed = ContinuousClock.now - started
            #expect(wait > .seconds(60) - elapsed - .milliseconds(2) && wait <= .seconds(60), "\(wait) after \(elapsed)")
            #expect(try await limits.take(.plays, client: "192.0.2.2", limit: limit) == nil)
        }
    }

    /// A token worth less than a millisecond (over 60,000 a minute) stored its bucket with `PX 0`,
    /// which Redis refuses: every request of such a client was a 500.
    @Test func aBucketOfManyTokensAMinuteTakesThemAll() async throws {
        try await withRedis { (_, redis) async throws in
            let limits = RateLimits(redis: redis, keys: Self.keys)
            let unlimited = RateLimit(perMinute: 100_000_000, burst: 100_000_000)
            for _ in 0..<50 { #expect(try await limits.take(.passwords, client: "192.0.2.3", limit: unlimited) == nil) }
            // 0.4 ms a token, no burst: some requests wait, none fails.
            let tight = RateLimit(perMinute: 150_000, burst: 1)
            for _ in 0..<50 { _ = try await limits.take(.plays, client: "192.0.2.3", limit: tight) }
        }
    }
}
