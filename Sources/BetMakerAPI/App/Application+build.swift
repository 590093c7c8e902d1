import Adapters
import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import RedisClient

/// Builds the API from its settings: the Redis client, the routes and the HTTP server, as one
/// application whose services stop in order (HTTP first, Redis last) on SIGTERM.
/// `metrics` is the registry `/metrics` renders (the one `MetricsSetup.bootstrap()` made).
public func buildApplication(
    settings: Settings, logger: Logger, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
) async throws -> some ApplicationProtocol {
    var redisConfiguration = settings.redis
    redisConfiguration.clientName = redisConfiguration.clientName ?? "betmaker-api"
    let redis = RedisClient(configuration: redisConfiguration, logger: logger.with(label: "redis"))
    // The one reader of the live feed in this process, fanning out to its browsers.
    let feed = LiveFeed(redis: redis, keys: settings.keys, symbols: settings.cryptoSymbols, logger: logger.with(label: "live-feed"))
    let gate = SchemaGate(redis: redis, keys: settings.keys, logger: logger)
    let router = try await buildRouter(settings: settings, redis: redis, metrics: metrics, feed: feed, gate: gate)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                idleTimeout: .init(settings.idleTimeout),
                httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "bet-maker"),
        services: [redis, gate, feed],
        logger: logger
    )
}

/// The router alone, for tests that drive it without a socket: its live-update streams stay open but
/// quiet, as no feed reader runs; the store's schema is checked by the first request.
public func buildRouter(
    settings: Settings, redis: RedisClient, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
) async throws -> Router<APIRequestContext> {
    let gate = SchemaGate(redis: redis, keys: settings.keys, logger: Logger(label: "schema"))
    return try await buildRouter(
        settings: settings, redis: redis, metrics: metrics,
        feed: LiveFeed(redis: redis, keys: settings.keys, symbols: settings.cryptoSymbols, logger: Logger(label: "live-feed")), gate: gate)
}

func buildRouter(
    settings: Settings, redis: RedisClient, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), feed: LiveFeed,
    gate: SchemaGate
) async throws -> Router<APIRequestContext> {
    let store = BetStore(redis: redis, keys: settings.keys, ids: IDGenerator(node: settings.nodeID))
    let accounts = AccountStore(redis: redis, keys: settings.keys, activationTTL: settings.activationTTL)
    let tokens = try await TokenAuthority(secret: jwtSecret(settings), lifetime: settings.accessTokenLifetime)
    let passwords = try await Passwords(cost: settings.bcryptCost)
    // HEAD is answered wherever GET is (RFC 9110 asks every server for both).
    let router = Router(context: APIRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routeMethods = RouteMethods()
    // Outermost, so it counts the status the client finally gets, problems included.
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestMiddleware(maximumBodyBytes: settings.maximumBodyBytes, routes: routeMethods))
    router.add(middleware: SchemaGateMiddleware(gate: gate))
    // Only the routes that care who is calling look at tokens: health, metrics, the documentation, the
    // webhook and logging in or out work whatever credentials a client (or a stale cookie) sends.
    let authentication = AuthenticationMiddleware(
        tokens: tokens, accounts: accounts, crossSite: CrossSiteRequestCheck(publicBaseURL: settings.publicBaseURL))
    func authenticated(_ group: RouterGroup<APIRequestContext>) -> RouterGroup<APIRequestContext> {
        group.group().add(middleware: authentication)
    }
    // One group per path prefix; each prefix is written here once.
    let events = router.group("/events")
    let users = router.group("/users")
    let admin = authenticated(router.group("/admin")).add(middleware: AdministratorsOnly())
    let catalogue = CatalogueStore(redis: redis, keys: settings.keys)
    BetRoutes(
        store: store, maximumStake: settings.maximumStake, maximumBodyBytes: settings.maximumBodyBytes,
        anonymousBets: settings.anonymousBets
    ).register(authenticated: authenticated(router.group("/bets")))
    EventRoutes(
        store: store, workflow: EventWorkflowStore(redis: redis, keys: settings.keys), maximumBodyBytes: settings.maximumBodyBytes,
        resultsAPIKey: settings.resultsAPIKey
    )
    .register(public: events, authenticated: authenticated(events))
    CatalogueRoutes(catalogue: catalogue, maximumBodyBytes: settings.maximumBodyBytes).register(
        public: events, traders: authenticated(router.group("/traders")), admin: admin.group("events"))
    UserRoutes(accounts: accounts, passwords: passwords, settings: settings).register(public: users, authenticated: authenticated(users))
    AuthRoutes(accounts: accounts, passwords: passwords, tokens: tokens, settings: settings).register(on: router.group("/auth"))
    AccountRoutes(accounts: accounts).register(authenticated: authenticated(router.group("/accounts")))
    PaymentRoutes(
        accounts: accounts, provider: settings.paymentWebhookSecret.map(SignedWebhookProvider.init(secret:)),
        maximumBodyBytes: settings.maximumBodyBytes, maximumDeposit: settings.maximumDeposit
    ).register(on: router.group("/payment"))
    let trades = TradeStore(redis: redis, keys: settings.keys, ids: store.ids)
    TradeRoutes(
        store: trades, symbols: settings.cryptoSymbols, maximumLeverage: settings.maximumLeverage, durations: settings.tradeDurations,
        maximumStake: settings.maximumTradeStake, maximumQuoteAge: settings.maximumQuoteAge,
        toleranceBasisPoints: settings.priceToleranceBasisPoints, maximumBodyBytes: settings.maximumBodyBytes
    ).register(
        authenticated: authenticated(router.group("/trades")), quotes: router.group("/crypto"),
        legacy: authenticated(router.group("/api/v1")))
    let adminRoutes = AdminRoutes(accounts: accounts, maximumBodyBytes: settings.maximumBodyBytes)
    adminRoutes.register(admin: admin.group("users"))
    adminRoutes.register(traders: admin.group("traders"))
    let queue = SettlementQueue(redis: redis, keys: settings.keys)
    DeadLetterRoutes(queue: queue).register(admin: admin.group("dead-letters"))
    TradeDeadLetterRoutes(store: trades, symbols: settings.cryptoSymbols).register(admin: admin.group("trade-dead-letters"))
    let contacts = ContactStore(redis: redis, keys: settings.keys)
    let esp = MeasuredEmailServiceProvider.configured(settings: settings, redis: redis)
    PlayRoutes(contacts: contacts, esp: esp, lookupTimeout: settings.espLookupTimeout, maximumBodyBytes: settings.maximumBodyBytes)
        .register(authenticated: authenticated(router.group("/plays")))
    ContactRoutes(contacts: contacts).register(admin: admin.group("contacts"))
    OperationsRoutes.standard(settings: settings, redis: redis, gate: gate, metrics: metrics).register(on: router)
    DocsRoutes().register(on: router)
    let ui = router.group("/ui").add(middleware: WebUIMiddleware())
    WebUIRoutes(
        bets: store, accounts: accounts, catalogue: catalogue, trades: trades, symbols: settings.cryptoSymbols,
        maximumLeverage: settings.maximumLeverage, durations: settings.tradeDurations, deadLetters: queue, contacts: contacts, feed: feed
    ).register(
        on: router, ui: ui, authenticated: authenticated(ui), stream: authenticated(router.group("/ui/stream")))
    if settings.benchNoopEndpoint {
        router.post("/bench/noop") { request, _ -> Response in
            _ = try await Input.json(request, limit: settings.maximumBodyBytes)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
    }
    // Last, once every route is there: a method a path does not serve is 405 with Allow.
    routeMethods.load(router.routes, servesHead: true)
    return router
}

/// The configured JWT secret, or, when it is missing or too short (development mode only: serving so
/// is refused otherwise, by the command), a random secret for this process, as the warning says.
func jwtSecret(_ settings: Settings) -> [UInt8] {
    if let secret = settings.jwtSecret, secret.utf8.count >= Settings.minimumJWTSecretBytes { return Array(secret.utf8) }
    return randomBytes(Settings.minimumJWTSecretBytes)
}

extension Logger {
    func with(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}
