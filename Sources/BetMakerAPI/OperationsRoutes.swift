import BetMaker
import Hummingbird
import NIOCore
import Prometheus
import RedisClient

/// What an orchestrator and a monitoring system ask of a process, the API's and the worker's alike:
///
/// - `/health/live`: the process answers;
/// - `/health/ready`: it can do its job, i.e. Redis answers, the scripts are loaded and the
///   settlement stream's consumer group exists. Readiness repairs what it can (loads scripts after a
///   Redis restart flushed them, creates the group) before it answers;
/// - `/metrics`: the process's metrics in Prometheus's text format.
public struct OperationsRoutes: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let metrics: PrometheusCollectorRegistry
    /// The settlement stream's consumer group.
    public let group = SettlementWorker.Configuration(consumer: "").group
    /// Runs before `/metrics` is rendered, to refresh gauges that are sampled rather than counted.
    public let beforeMetrics: @Sendable () async -> Void

    public init(
        redis: RedisClient, keys: RedisKeys, metrics: PrometheusCollectorRegistry, beforeMetrics: @escaping @Sendable () async -> Void = {}
    ) {
        self.redis = redis
        self.keys = keys
        self.metrics = metrics
        self.beforeMetrics = beforeMetrics
    }

    public static let paths = ["/health/live", "/health/ready", "/metrics"]

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/health/live") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/health/ready") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            await beforeMetrics()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }

    private func ready() async throws -> Response {
        var checks: [(String, String)] = []
        var healthy = true
        do {
            _ = try await redis.ping()
            checks.append(("redis", "ok"))
            if try await !redis.scriptsExist(Scripts.all) { try await redis.load(Scripts.all) }
            checks.append(("scripts", "ok"))
            try await redis.xgroupCreate(keys.eventsStream, group: group, startingAt: "0")
            checks.append(("consumer_group", "ok"))
        } catch {
            healthy = false
            checks.append((["redis", "scripts", "consumer_group"][checks.count], "\(error)"))
        }
        var json = JSONWriter()
        json.beginObject()
        json.field("status", healthy ? "ready" : "unavailable")
        json.key("checks")
        json.beginObject()
        for (name, state) in checks { json.field(name, state) }
        json.endObject()
        json.endObject()
        return Response(
            status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
