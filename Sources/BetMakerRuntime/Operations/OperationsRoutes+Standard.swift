import BetMaker
import Prometheus
import RedisClient

extension OperationsRoutes {
    /// The operations surface both executables serve, so that an orchestrator sees the same
    /// readiness and a scrape the same gauges whichever process it asks: ready when the store's schema
    /// is checked (`SchemaGate`) and the store is ready (`ReadinessCheck.store`) and the price feed is fresh, and each scrape first samples the
    /// settlement stream (overdue events), the quotes' age and the ESP outbox.
    public static func standard(
        settings: Settings, redis: RedisClient, gate: SchemaGate, metrics: PrometheusCollectorRegistry
    ) -> OperationsRoutes {
        let streamGauges = StreamGauges(redis: redis, keys: settings.keys, overdueAfter: settings.workerRequeueAfter)
        let quoteGauges = QuoteGauges(store: PriceStore(redis: redis, keys: settings.keys), symbols: settings.cryptoSymbols)
        let outboxGauges = ContactOutboxGauges(redis: redis, keys: settings.keys)
        return OperationsRoutes(
            metrics: metrics,
            readiness: [gate.readinessCheck] + ReadinessCheck.store(redis: redis, keys: settings.keys) + [
                ReadinessCheck.quotes(quoteGauges, maximumAge: settings.maximumQuoteAge)
            ],
            beforeMetrics: {
                await streamGauges.sample()
                await quoteGauges.sample()
                await outboxGauges.sample()
            })
    }
}
