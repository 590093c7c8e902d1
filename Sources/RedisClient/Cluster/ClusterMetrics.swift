import CoreMetrics

/// The cluster client's metrics: redirects taken, map refreshes, commands retried, and per node its
/// ready connections and failed connection attempts.
struct ClusterMetrics: Sendable {
    private let factory: any MetricsFactory
    private let moved: Counter
    private let asked: Counter
    let refreshChanged: Counter
    let refreshUnchanged: Counter
    let refreshFailed: Counter
    let masters: Gauge

    init(factory: any MetricsFactory) {
        self.factory = factory
        moved = Counter(label: "redis_cluster_redirects_total", dimensions: [("kind", "moved")], factory: factory)
        asked = Counter(label: "redis_cluster_redirects_total", dimensions: [("kind", "ask")], factory: factory)
        refreshChanged = Counter(label: "redis_cluster_map_refreshes_total", dimensions: [("outcome", "changed")], factory: factory)
        refreshUnchanged = Counter(label: "redis_cluster_map_refreshes_total", dimensions: [("outcome", "unchanged")], factory: factory)
        refreshFailed = Counter(label: "redis_cluster_map_refreshes_total", dimensions: [("outcome", "failed")], factory: factory)
        masters = Gauge(label: "redis_cluster_masters", factory: factory)
    }

    func redirect(_ kind: RedisRedirect.Kind) {
        switch kind {
        case .moved: moved.increment()
        case .ask: asked.increment()
        }
    }

    /// A command sent again after an answer or a failure that says it did not run (`reason`: the
    /// error code, `unavailable` for a node that could not be reached, `connection` for a read whose
    /// connection dropped).
    func retry(_ reason: String) {
        Counter(label: "redis_cluster_retries_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    func readyConnections(of node: RedisEndpoint) -> Gauge {
        Gauge(label: "redis_cluster_node_connections", dimensions: [("node", node.description)], factory: factory)
    }

    func connectionFailures(of node: RedisEndpoint) -> Counter {
        Counter(label: "redis_cluster_node_connection_failures_total", dimensions: [("node", node.description)], factory: factory)
    }
}
