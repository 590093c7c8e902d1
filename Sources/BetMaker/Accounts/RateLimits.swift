import RedisClient

/// A token bucket: up to `burst` requests at once, then `perMinute` a minute.
public struct RateLimit: Sendable, Equatable {
    public var perMinute: Int
    public var burst: Int

    public init(perMinute: Int, burst: Int) {
        self.perMinute = perMinute
        self.burst = burst
    }

    /// Milliseconds per token, and the burst's slack (GCRA's tolerance), as `take_token` takes them.
    var arguments: [String] {
        let interval = 60_000 / Double(perMinute)
        return [String(interval), String(interval * Double(burst - 1))]
    }
}

/// The token buckets of client addresses, one per kind of costly request, in Redis so that every API
/// process draws from the same bucket (`take_token`, one key per bucket and client).
public struct RateLimits: Sendable {
    /// Requests that check or hash a password (`POST /auth`, `POST /users`), and plays (`POST /plays`).
    public enum Bucket: String, Sendable {
        case passwords, plays
    }

    let redis: RedisClient
    let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// Takes a token of `client`'s bucket: nil when the request may go, else how long until it may.
    public func take(_ bucket: Bucket, client: String, limit: RateLimit) async throws -> Duration? {
        let wait = try await redis.eval(
            Scripts.takeToken, keys: [keys.rateBucket(bucket.rawValue, client: client)], arguments: limit.arguments
        ).int(for: "take_token")
        return wait > 0 ? .milliseconds(wait) : nil
    }
}
