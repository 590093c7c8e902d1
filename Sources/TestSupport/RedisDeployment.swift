import BetMaker
import Foundation
import RedisClient

/// A Redis the processes under test are pointed at: one `redis-server`, or a Redis Cluster. The
/// end-to-end suite runs against either (`make test` runs it on both): `RedisDeployment.mode` says which.
public protocol RedisDeployment: Sendable {
    /// The settings that point `betmaker-api`, `betmaker-worker` and their commands at it.
    var processSettings: [String: String] { get }
    /// A client configuration for the test's own look behind the API.
    var configuration: RedisConfiguration { get }
}

extension RedisServer: RedisDeployment {
    public var processSettings: [String: String] { ["REDIS_URL": url] }
}

extension RedisCluster: RedisDeployment {
    /// Every node as a seed; `REDIS_URL` names one node too (cluster mode takes only its password).
    public var processSettings: [String: String] {
        ["REDIS_CLUSTER_NODES": seedList, "REDIS_URL": "redis://127.0.0.1:\(nodes[0].port)"]
    }
}

/// Which Redis the end-to-end harness starts: `BETMAKER_TEST_REDIS=cluster` (set by `make test`'s
/// cluster pass) starts a 3-master cluster per test instead of one server.
public enum RedisDeploymentMode: Sendable {
    case server
    case cluster

    public static var current: RedisDeploymentMode {
        ProcessInfo.processInfo.environment["BETMAKER_TEST_REDIS"] == "cluster" ? .cluster : .server
    }

    /// The shards a cluster run splits the streams into unless `REDIS_SHARDS` says otherwise: more
    /// than the masters, as in production, so the events of one test land on every master.
    public static let clusterShards = 6
}
