import BetMakerRuntime
import RedisClient
import Testing

@Suite struct SettingsTests {
    private func settings(_ values: [String: String]) throws -> Settings {
        try Settings(reading: { name, _ in values[name] })
    }

    @Test func aRedisClusterIsRefusedAtStartUntilTheScriptsKeepToOneSlot() throws {
        #expect(try settings([:]).redis.cluster == nil)
        let error = #expect(throws: SettingsError.self) {
            try settings(["REDIS_CLUSTER_NODES": "127.0.0.1:7001,127.0.0.1:7002"])
        }
        #expect(error?.description.contains("cannot run on Redis Cluster yet") == true)
        // A malformed list is still named as such, not hidden behind the refusal.
        let malformed = #expect(throws: SettingsError.self) { try settings(["REDIS_CLUSTER_NODES": "not a node"]) }
        #expect(malformed?.description.hasPrefix("REDIS_CLUSTER_NODES: ") == true)
        #expect(malformed?.description.contains("cannot run") == false)
    }
}
