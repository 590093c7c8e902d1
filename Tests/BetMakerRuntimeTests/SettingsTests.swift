import BetMaker
import BetMakerRuntime
import RedisClient
import Testing

@Suite struct SettingsTests {
    private func settings(_ values: [String: String]) throws -> Settings {
        try Settings(reading: { name, _ in values[name] })
    }

    @Test func aRedisClusterIsASettingAndAMalformedNodeListIsRefused() throws {
        #expect(try settings([:]).redis.cluster == nil)
        let cluster = try settings(["REDIS_CLUSTER_NODES": "127.0.0.1:7001,127.0.0.1:7002"]).redis.cluster
        #expect(cluster?.seeds.map(\.description) == ["127.0.0.1:7001", "127.0.0.1:7002"])
        let malformed = #expect(throws: SettingsError.self) { try settings(["REDIS_CLUSTER_NODES": "not a node"]) }
        #expect(malformed?.description.hasPrefix("REDIS_CLUSTER_NODES: ") == true)
        let database = #expect(throws: SettingsError.self) {
            try settings(["REDIS_CLUSTER_NODES": "127.0.0.1:7001", "REDIS_URL": "redis://127.0.0.1:7001/3"])
        }
        #expect(database?.description.contains("only database 0") == true)
    }

    @Test func writesWaitForReplicasOnlyWhenAsked() throws {
        #expect(try settings([:]).redis.replicaAcknowledgement == nil)
        #expect(try settings(["REDIS_WAIT_REPLICAS": "0"]).redis.replicaAcknowledgement == nil)
        #expect(
            try settings(["REDIS_WAIT_REPLICAS": "1"]).redis.replicaAcknowledgement
                == ReplicaAcknowledgement(replicas: 1, timeout: .milliseconds(100)))
        #expect(
            try settings(["REDIS_WAIT_REPLICAS": "2", "REDIS_WAIT_TIMEOUT_MS": "250"]).redis.replicaAcknowledgement
                == ReplicaAcknowledgement(replicas: 2, timeout: .milliseconds(250)))
        #expect(throws: SettingsError.self) { try settings(["REDIS_WAIT_REPLICAS": "-1"]) }
    }

    /// The shard count reaches the keys every process uses; outside 1...256 it is refused.
    @Test func theShardCountIsOneUnlessSetAndReachesTheKeys() throws {
        #expect(try settings([:]).keys.shards == 1)
        let sharded = try settings(["REDIS_SHARDS": "12", "KEY_PREFIX": "p:"]).keys
        #expect(sharded.shards == 12 && sharded.prefix == "p:")
        #expect(sharded.eventsStream(shard: 11) == "p:{sh:11}:events")
        for wrong in ["0", "257", "-1", "four"] {
            let error = #expect(throws: SettingsError.self) { try settings(["REDIS_SHARDS": wrong]) }
            #expect(error?.description.hasPrefix("REDIS_SHARDS must be a whole number from 1 to 256") == true)
        }
    }

    /// Issue 28, point 3: a trade shorter than two feed intervals could open and close on ticks a
    /// player knows in advance; the shortest duration follows the feed, and a setting below it is refused.
    @Test func theShortestTradeIsTwoFeedIntervals() throws {
        #expect(try settings([:]).tradeDurations.lowerBound == 10)
        let coinMarketCap = ["CMC_API_KEY": "k"]
        #expect(try settings(coinMarketCap).tradeDurations.lowerBound == 120)
        #expect(try settings(coinMarketCap.merging(["CMC_REFRESH_SECONDS": "1"]) { $1 }).tradeDurations.lowerBound == 10)
        #expect(try settings(["SIMULATED_FEED_INTERVAL_MS": "30000"]).tradeDurations.lowerBound == 60)
        #expect(try settings(["SIMULATED_FEED_INTERVAL_MS": "250", "TRADE_MIN_SECONDS": "1"]).tradeDurations.lowerBound == 1)
        #expect(try settings(["PRICE_FEED": "none", "TRADE_MIN_SECONDS": "1"]).tradeDurations.lowerBound == 1)
        let error = #expect(throws: SettingsError.self) { try settings(coinMarketCap.merging(["TRADE_MIN_SECONDS": "60"]) { $1 }) }
        #expect(error?.description.hasPrefix("TRADE_MIN_SECONDS (60) must be at least two price feed intervals (120 s)") == true)
    }
}
