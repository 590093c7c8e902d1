import Metrics
import Prometheus

/// Sets up swift-metrics for a bet-maker process with a Prometheus registry behind it, which the
/// process's `GET /metrics` renders.
public enum MetricsSetup {
    /// Bootstraps the metrics system once per process and returns the registry to render.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry: registry))
        return registry
    }

    /// The factory alone, for tests that must not touch the process-wide metrics system.
    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests and Redis commands take well under the library's smallest bucket (5 ms).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // From a result to its last bet settled: milliseconds for small events, seconds for huge ones.
        factory.durationHistogramBuckets["settlement_lag_seconds"] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
        ]
        factory.nameAndLabelSanitizer = { name, labels in
            (prometheusName(name), labels.map { (prometheusName(renamedLabels[$0.0] ?? $0.0), $0.1) })
        }
        return factory
    }

    /// Hummingbird's metric names (OpenTelemetry style) in Prometheus's conventions.
    static let renamedMetrics = [
        "hb.requests": "http_requests_total",
        "hb.request.errors": "http_request_errors_total",
        "http.server.request.duration": "http_request_duration_seconds",
        "http.server.active_requests": "http_active_requests",
    ]
    static let renamedLabels = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
    ]

    /// Prometheus allows `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`.
    static func prometheusName(_ name: String) -> String {
        let name = renamedMetrics[name] ?? name
        var scalars = String.UnicodeScalarView()
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let allowed = scalar.isASCII && (scalar.properties.isAlphabetic || scalar == "_" || (index > 0 && ("0"..."9").contains(scalar)))
            scalars.append(allowed ? scalar : "_")
        }
        return String(scalars)
    }
}
