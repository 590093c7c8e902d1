import BetMaker
import RedisClient

/// The ESP when `ESP_URL` is unset (`make run`, a laptop without network): its contacts are a set of
/// subscriber hashes in Redis (`RedisKeys.simulatedESP`), so the API's lookups see what the workers
/// created, across processes and restarts. It answers at once and never fails; the tests use a real
/// HTTP fake instead (`TestSupport.FakeESPServer`), which can also be slow or refuse.
public struct SimulatedEmailServiceProvider: EmailServiceProvider {
    let redis: RedisClient
    let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    public func hasContact(_ address: EmailAddress, timeout: Duration) async throws -> Bool {
        try await redis.sismember(keys.simulatedESP, address.subscriberHash)
    }

    public func createContact(_ address: EmailAddress) async throws {
        _ = try await redis.sadd(keys.simulatedESP, [address.subscriberHash])
    }

    public func eraseContact(subscriberHash: String) async throws {
        _ = try await redis.srem(keys.simulatedESP, [subscriberHash])
    }
}
