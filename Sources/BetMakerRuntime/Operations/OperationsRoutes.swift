import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// What an orchestrator and a monitoring system ask of a process, the API's and the worker's alike:
///
/// - `/health/live`: the process answers;
/// - `/health/ready`: it can do its job: its readiness checks pass, in order (for both processes
///   those of `standard`, first `ReadinessCheck.store`: Redis answers, the scripts are loaded and the settlement stream's
///   consumer group exists). A check repairs what it can (loads scripts after a Redis restart flushed
///   them, creates the group) before it answers;
/// - `/metrics`: the process's metrics in Prometheus's text format.
///
/// It takes its checks and gauges from the process that serves it, so it needs nothing of the API.
/// Both processes serve it on an operations port of their own (`server`), which is not published:
/// readiness and metrics tell an outsider about load and state (docs/decisions/0288). The API also
/// answers `/health/live` on its public port, for a load balancer that checks only that port.
public struct OperationsRoutes: Sendable {
    public let metrics: PrometheusCollectorRegistry
    /// `/health/ready` runs them in order and stops at the first that fails.
    public let readiness: [ReadinessCheck]
    /// Runs before `/metrics` is rendered, to refresh gauges that are sampled rather than counted.
    public let beforeMetrics: @Sendable () async -> Void

    public init(
        metrics: PrometheusCollectorRegistry, readiness: [ReadinessCheck], beforeMetrics: @escaping @Sendable () async -> Void = {}
    ) {
        self.metrics = metrics
        self.readiness = readiness
        self.beforeMetrics = beforeMetrics
    }

    public static let paths = ["/health/live", "/health/ready", "/metrics"]

    public func register<Context: RequestContext>(on router: Router<Context>) {
        Self.registerLiveness(on: router)
        router.get("/health/ready") { _, _ in await ready() }
        router.get("/metrics") { _, _ in
            await beforeMetrics()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }

    /// `/health/live` alone: the process answers.
    public static func registerLiveness<Context: RequestContext>(on router: Router<Context>) {
        router.get("/health/live") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
    }

    /// These routes on a server of their own at `host:port`, as a service of the process.
    public func server(host: String, port: Int, serverName: String, logger: Logger) -> some Service {
        let router = Router()
        register(on: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: serverName), logger: logger)
    }

    private func ready() async -> Response {
        var checks: [(String, String)] = []
        var healthy = true
        for check in readiness {
            do {
                try await check.run()
                checks.append((check.name, "ok"))
            } catch {
                checks.append((check.name, "\(error)"))
                if check.informational { continue }
                healthy = false
                break
            }
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
