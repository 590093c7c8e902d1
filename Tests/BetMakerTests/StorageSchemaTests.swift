import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The storage schema version in Redis (`StorageSchema`).
@Suite struct StorageSchemaTests {
    static let keys = RedisKeys(prefix: "s:")

    @Test func anEmptyStoreIsClaimedForThisBuildsVersion() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .current)
            #expect(try await redis.get(Self.keys.schema) == String(StorageSchema.version))
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .current)
            // Another prefix is another store.
            #expect(try await redis.get(RedisKeys(prefix: "t:").schema) == nil)
        }
    }

    @Test func dataOfAnotherVersionOrOfNoneIsRefusedAndLeftAsItIs() async throws {
        try await withRedis { (_, redis) async throws in
            let other = String(StorageSchema.version + 1)
            _ = try await redis.set(Self.keys.schema, to: other)
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .other(other))
            let refusal = try #require(StorageSchema.refusal(.other(other), keys: Self.keys))
            #expect(refusal.contains("schema \(other)") && refusal.contains("this build reads schema \(StorageSchema.version)"))
            #expect(try await redis.get(Self.keys.schema) == other)

            _ = try await redis.del([Self.keys.schema])
            _ = try await redis.rpush(Self.keys.allBets(shard: 0), ["m~0K3M4T7QH2XA"])
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .unversioned)
            #expect(try await redis.get(Self.keys.schema) == nil, "an unversioned store is not claimed")
            #expect(StorageSchema.refusal(.unversioned, keys: Self.keys)?.contains("without a storage schema version") == true)
        }
    }
}
