import Adapters
import BetMaker
import BetMakerRuntime
import Hummingbird
import Logging
import Prometheus
import RedisClient
import ServiceLifecycle
import UnixSignals

/// Builds the worker from its settings: the Redis client, the operations server (unless
/// `WORKER_HTTP_PORT` is 0), the settlement worker, the ESP outbox's relay, the credits relay, the
/// hold reconciler and the price worker, as one service group.
/// On SIGTERM or SIGINT the relay and the settlement worker stop first, so they can still acknowledge
/// what they finished, and the Redis client last.
/// `metrics` is the registry `/metrics` renders (the one `MetricsSetup.bootstrap()` made).
public func buildWorker(settings: Settings, logger: Logger, metrics: PrometheusCollectorRegistry) -> ServiceGroup {
    var redisConfiguration = settings.redis
    redisConfiguration.clientName = "betmaker-worker:\(settings.workerName)"
    let redis = RedisClient(configuration: redisConfiguration, logger: Logger(label: "redis"))
    // One settlement loop per shard: a blocking read cannot span the shards' streams on a cluster.
    let workers = settings.keys.allShards.map { shard in
        SettlementWorker(redis: redis, keys: settings.keys, shard: shard, configuration: settings.workerConfiguration, logger: logger)
    }
    // The loops below start once the store's schema is checked; a refusal stops the group.
    let gate = SchemaGate(redis: redis, keys: settings.keys, logger: logger)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: redis), .init(service: gate)]
    if settings.workerHTTPPort != 0 {
        services.append(.init(service: operationsServer(settings: settings, redis: redis, gate: gate, metrics: metrics, logger: logger)))
    }
    let relay = ContactRelay(
        redis: redis, keys: settings.keys, esp: MeasuredEmailServiceProvider.configured(settings: settings, redis: redis),
        configuration: settings.contactRelayConfiguration, logger: logger)
    services.append(.init(service: GatedService(relay, behind: gate), successTerminationBehavior: .gracefullyShutdownGroup))
    for worker in workers {
        services.append(.init(service: GatedService(worker, behind: gate), successTerminationBehavior: .gracefullyShutdownGroup))
    }
    // Settlement's shard outboxes and the configured symbols' (trade closes and voids).
    let outboxes = settings.keys.creditOutboxes + settings.cryptoSymbols.map(settings.keys.tradeCredits)
    let credits = CreditRelay(
        redis: redis, keys: settings.keys, streams: outboxes, configuration: settings.creditRelayConfiguration, logger: logger)
    services.append(.init(service: GatedService(credits, behind: gate), successTerminationBehavior: .gracefullyShutdownGroup))
    let reconciler = HoldReconciler(redis: redis, keys: settings.keys, maximumAge: settings.holdMaximumAge, logger: logger)
    services.append(
        .init(
            service: GatedService(
                Reconciler(
                    reconciler: reconciler,
                    confirmer: StakeConfirmer(redis: redis, keys: settings.keys, maximumAge: settings.holdMaximumAge, logger: logger),
                    interval: settings.holdReconcileInterval, logger: logger), behind: gate),
            successTerminationBehavior: .gracefullyShutdownGroup))
    services.append(
        .init(
            service: GatedService(priceWorker(settings: settings, redis: redis, logger: logger), behind: gate),
            successTerminationBehavior: .gracefullyShutdownGroup))
    return ServiceGroup(
        configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger))
}

/// `/health/live`, `/health/ready` and `/metrics` of the worker, on a port of its own.
func operationsServer(
    settings: Settings, redis: RedisClient, gate: SchemaGate, metrics: PrometheusCollectorRegistry, logger: Logger
) -> some Service {
    OperationsRoutes.standard(settings: settings, redis: redis, gate: gate, metrics: metrics).server(
        host: settings.workerHTTPHost, port: settings.workerHTTPPort, serverName: "bet-maker-worker", logger: logger)
}

/// The feed the settings choose (`PRICE_FEED`) and the worker that records and processes its ticks.
func priceWorker(settings: Settings, redis: RedisClient, logger: Logger) -> PriceWorker {
    let feed: (any PriceFeed)?
    var refresh = settings.cmcRefresh
    switch settings.priceFeed {
    case .coinmarketcap:
        feed = CoinMarketCapFeed(baseURL: settings.cmcBaseURL, apiKey: settings.cmcAPIKey ?? "", timeout: settings.priceFeedTimeout)
    case .simulated:
        feed = SimulatedPriceFeed(seed: settings.simulatedFeedSeed)
        refresh = settings.simulatedFeedInterval
    case .none:
        feed = nil
    }
    let configuration = PriceWorker.Configuration(
        symbols: settings.cryptoSymbols, refresh: refresh, pollInterval: settings.tradePollInterval, batchSize: settings.tradeBatchSize)
    return PriceWorker(feed: feed, redis: redis, keys: settings.keys, configuration: configuration, logger: logger)
}
