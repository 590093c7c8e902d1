import BetMaker
import Configuration
import Logging
import NIOCore
import RedisClient
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Every setting of the API and the worker, read from the environment and a `.env` file (the
/// environment wins), with defaults. `.env.example` lists them all.
public struct Settings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var redis = RedisConfiguration()
    public var keyPrefix = "bm:"
    /// How many shards an event's keys and the results streams are split into (`RedisKeys.shards`);
    /// fixed for a store's life (it records the count, `StorageSchema`).
    public var redisShards = 1
    public var maximumStake = Money(cents: 100_000_000)
    /// Largest deposit the payment webhook credits at once.
    public var maximumDeposit = Money(cents: 100_000_000)
    public var maximumBodyBytes = 64 * 1024
    public var idleTimeout: Duration = .seconds(60)
    public var nodeID: Int?
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    /// Adds `POST /bench/noop` (parse a JSON body, answer a small JSON), the baseline `make bench`
    /// compares `POST /bets` with. Off unless `BENCH_NOOP_ENDPOINT=true`.
    public var benchNoopEndpoint = false

    // Accounts, authentication, payments.
    /// Signs the access tokens (HS256); at least 32 bytes. Required unless `developmentMode`.
    public var jwtSecret: String?
    /// Allows a missing or weak JWT secret (a random one is made per process) and warns instead of
    /// refusing to start. For a developer's machine only.
    public var developmentMode = false
    public var accessTokenLifetime: Duration = .seconds(3600)
    /// bcrypt's cost (log2 of its rounds) for new passwords.
    public var bcryptCost = 12
    public var activationTTL: Duration = .seconds(48 * 3600)
    /// Where clients reach the API, for the activation links; by default http://host:port.
    public var publicBaseURL: String?
    /// The payment provider's shared secret; without it the webhook refuses every delivery.
    public var paymentWebhookSecret: String?
    /// Lets a results feed report results without an operator's token; without it (and without a
    /// token) anyone may report events that carry no money, as in the original API.
    public var resultsAPIKey: String?
    /// Anonymous bets (no token, no money) as in the original API; off with `ANONYMOUS_BETS=false`.
    public var anonymousBets = true
    /// Failed logins of one login from one client address after which that client is locked out of
    /// the login for `loginLockout`; and the failures a login takes from all clients together in an
    /// hour (docs/decisions/0282).
    public var loginMaxFailures = 10
    public var loginLockout: Duration = .seconds(900)
    public var loginFailuresPerHour = 100

    // Limits on what abuse costs (docs/decisions/0281-0289).
    /// The header a reverse proxy in front of the API puts the client's address in (`X-Forwarded-For`,
    /// `X-Real-IP`); unset, the socket's peer is the client.
    public var trustedProxyHeader: String?
    /// Each client address's bucket of requests that check or hash a password (`POST /auth`, `POST /users`).
    public var passwordRateLimit = RateLimit(perMinute: 20, burst: 20)
    /// Each client address's bucket of plays (`POST /plays`).
    public var playRateLimit = RateLimit(perMinute: 10, burst: 20)
    /// bcrypt hashes at once (half the cores by default, so logins never take every core), and how
    /// many may wait for one before the API answers 503.
    public var bcryptThreads = max(1, System.coreCount / 2)
    public var bcryptQueueLimit = 16
    /// What the ESP makes a new address: `pending` (double opt-in: the ESP asks the person to
    /// confirm) or `subscribed`.
    public var espStatusIfNew = "pending"
    /// Live-update streams (`GET /ui/stream`) one user may hold open on one API process.
    public var liveStreamsPerUser = 10
    /// Where the API answers `/health/live`, `/health/ready` and `/metrics` for operators, apart from
    /// its public port; port 0 turns that off.
    public var apiOperationsHost = "127.0.0.1"
    public var apiOperationsPort = 8082
    /// Passwords the seed command gives the users it creates (`SEED_ADMIN_PASSWORD`, `SEED_PLAYER_PASSWORD`,
    /// `SEED_TRADER_PASSWORD` for both traders).
    public var seedAdminPassword: String?
    public var seedPlayerPassword: String?
    public var seedTraderPassword: String?

    // The email service provider (ESP) and its outbox.
    /// The ESP's base URL (Mailchimp-shaped, without `/3.0`); unset: the simulated ESP in Redis.
    public var espURL: String?
    /// Required with `espURL`.
    public var espListID: String?
    public var espAPIKey: String?
    /// How long `POST /plays` waits for the ESP's answer about a new address before answering
    /// `in_esp: null`.
    public var espLookupTimeout: Duration = .milliseconds(300)
    /// The deadline of the worker's creates and erasures.
    public var espTimeout: Duration = .seconds(5)
    /// ESP calls for one outbox message before it is dead-lettered.
    public var espMaxAttempts = 8
    /// The delay before the first retry; it doubles up to `espRetryMaximum` (a `Retry-After` wins
    /// when longer).
    public var espRetryInitial: Duration = .seconds(1)
    public var espRetryMaximum: Duration = .seconds(300)

    public var settlementBatchSize = 1000
    public var settlementPause: Duration = .zero
    public var workerName = Settings.hostname()
    public var workerBlock: Duration = .seconds(5)
    public var workerClaimInterval: Duration = .seconds(10)
    public var workerClaimMinIdle: Duration = .seconds(60)
    public var workerMaxDeliveries = 10
    /// An event reported this long ago and still unsettled is queued again by the worker, and counts
    /// in `events_settlement_overdue`. More than `workerClaimMinIdle + workerClaimInterval`.
    public var workerRequeueAfter: Duration = .seconds(120)
    /// How often the worker finishes holds left behind, and how old a pending hold must be for that.
    public var holdReconcileInterval: Duration = .seconds(10)
    public var holdMaximumAge: Duration = .seconds(30)
    /// Where the worker answers `/health/*` and `/metrics`; port 0 turns that off.
    public var workerHTTPHost = "127.0.0.1"
    public var workerHTTPPort = 8081

    // Crypto-price trades (docs/ARCHITECTURE.md, "Trades").
    /// The symbols trades may be on, and the feed is read for.
    public var cryptoSymbols = ["BTC", "ETH"]
    public var maximumLeverage = 100
    /// Durations a trade may have, in seconds. The shortest is at least two intervals of the price feed
    /// (`priceFeedInterval`): a trade opens at the first tick after its acceptance and closes at the
    /// first at or after its expiry, so a shorter one could open and close on ticks a watcher of a
    /// faster exchange knows in advance (docs/decisions/0294-trades-open-at-the-next-tick.md).
    public var tradeDurations = 10...86_400
    /// Largest stake of a trade.
    public var maximumTradeStake = Money(cents: 100_000_000)
    /// A quote older than this is stale: trades are refused (503) and the readiness check says so.
    public var maximumQuoteAge: Duration = .seconds(120)
    /// How far (in hundredths of a percent) a client's `start_price` may be from the server's.
    public var priceToleranceBasisPoints = 50
    public enum PriceFeedKind: String, Sendable { case simulated, coinmarketcap, none }
    /// What the worker reads prices from: CoinMarketCap when `CMC_API_KEY` is set, else the simulated
    /// walk; `none` records nothing (ticks come from elsewhere, e.g. a test).
    public var priceFeed = PriceFeedKind.simulated
    public var cmcAPIKey: String?
    public var cmcBaseURL = "https://pro-api.coinmarketcap.com"
    /// CoinMarketCap is read at most this often (the free plan refreshes about once a minute).
    public var cmcRefresh: Duration = .seconds(60)
    /// Every call to the feed gives up after this long.
    public var priceFeedTimeout: Duration = .seconds(10)
    /// How often the simulated feed ticks, and its seed.
    public var simulatedFeedInterval: Duration = .seconds(1)
    public var simulatedFeedSeed: UInt64 = 42
    /// How often the worker looks for new ticks to process, and the trades in one close script.
    public var tradePollInterval: Duration = .milliseconds(250)
    public var tradeBatchSize = TradeSettler.defaultBatchSize

    /// Every shard has a stream the worker reads on a connection of its own.
    public static let maximumShards = 256

    public enum LogFormat: String, Sendable { case text, json }

    public init() {}

    public var keys: RedisKeys { RedisKeys(prefix: keyPrefix, shards: redisShards) }

    /// Reads the settings from the environment, then `envFile` (if it exists).
    public static func load(envFile: String = ".env") async throws -> Settings {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: .init(envFile), allowMissing: true),
        ])
        return try Settings(reading: { name, isSecret in reader.string(forKey: ConfigKey(name), isSecret: isSecret) })
    }

    /// Builds settings from a lookup of variable names (`WEB_SERVER_PORT`, ...), for tests and `load`.
    public init(reading value: (_ name: String, _ isSecret: Bool) -> String?) throws(SettingsError) {
        func text(_ name: String, secret: Bool = false) -> String? {
            guard var raw = value(name, secret)?.trimmingSpaces, !raw.isEmpty else { return nil }
            // A .env file may quote values; the quotes are not part of them.
            if raw.count >= 2, let first = raw.first, first == raw.last, first == "\"" || first == "'" {
                raw = String(raw.dropFirst().dropLast())
            }
            return raw.isEmpty ? nil : raw
        }
        func integer(_ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int? {
            guard let raw = text(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw SettingsError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(raw)\"")
            }
            return number
        }
        func boolean(_ name: String) throws(SettingsError) -> Bool? {
            guard let raw = text(name) else { return nil }
            switch raw.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw SettingsError("\(name) must be true or false, not \"\(raw)\"")
            }
        }
        func money(_ name: String) throws(SettingsError) -> Money? {
            guard let raw = text(name) else { return nil }
            do {
                return try Money.stake(parsing: Substring(raw), maximum: Money(cents: Int64.max))
            } catch {
                throw SettingsError("\(name) \(error) (got \"\(raw)\")")
            }
        }
        func milliseconds(_ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Duration? {
            try integer(name, in: range).map { .milliseconds($0) }
        }

        host = text("WEB_SERVER_HOST") ?? host
        port = try integer("WEB_SERVER_PORT", in: 0...65535) ?? port
        if let url = text("REDIS_URL", secret: true) {
            do {
                redis = try RedisConfiguration(url: url)
            } catch {
                throw SettingsError(error.description)
            }
        }
        if let nodes = text("REDIS_CLUSTER_NODES") {
            do {
                redis.cluster = RedisClusterOptions(seeds: try RedisEndpoint.list(nodes))
            } catch {
                throw SettingsError("REDIS_CLUSTER_NODES: \(error.description)")
            }
            guard redis.database == 0 else { throw SettingsError("REDIS_URL selects a database, but a Redis cluster has only database 0") }
        }
        // A write acknowledged to a client is on this many replicas too, unless the wait timed out:
        // a failover then loses only writes whose wait timed out (docs/decisions/0030).
        if let replicas = try integer("REDIS_WAIT_REPLICAS", in: 0...16), replicas > 0 {
            let timeout = try milliseconds("REDIS_WAIT_TIMEOUT_MS", in: 1...60_000) ?? .milliseconds(100)
            redis.replicaAcknowledgement = ReplicaAcknowledgement(replicas: replicas, timeout: timeout)
        }
        redis.poolSize = try integer("REDIS_POOL_SIZE", in: 1...64) ?? redis.poolSize
        redis.commandTimeout = try milliseconds("REDIS_COMMAND_TIMEOUT_MS", in: 10...600_000) ?? redis.commandTimeout
        redis.connectTimeout = try milliseconds("REDIS_CONNECT_TIMEOUT_MS", in: 10...600_000) ?? redis.connectTimeout
        if let prefix = text("KEY_PREFIX") {
            guard EventID.isValid(prefix) else { throw SettingsError("KEY_PREFIX may hold only \(EventID.rule)") }
            keyPrefix = prefix
        }
        redisShards = try integer("REDIS_SHARDS", in: 1...Self.maximumShards) ?? redisShards
        maximumStake = try money("MAX_BET_AMOUNT") ?? maximumStake
        maximumDeposit = try money("MAX_DEPOSIT_AMOUNT") ?? maximumDeposit
        maximumBodyBytes = try integer("MAX_BODY_BYTES", in: 1024...16_777_216) ?? maximumBodyBytes
        idleTimeout = try milliseconds("HTTP_IDLE_TIMEOUT_MS", in: 1000...3_600_000) ?? idleTimeout
        nodeID = try integer("NODE_ID", in: 0...(IDGenerator.nodeCount - 1))
        if let level = text("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw SettingsError("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = parsed
        }
        if let format = text("LOG_FORMAT") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else { throw SettingsError("LOG_FORMAT must be text or json") }
            logFormat = parsed
        }

        benchNoopEndpoint = try boolean("BENCH_NOOP_ENDPOINT") ?? false

        jwtSecret = text("JWT_SECRET", secret: true)
        developmentMode = try boolean("DEVELOPMENT_MODE") ?? developmentMode
        accessTokenLifetime = try integer("ACCESS_TOKEN_TTL_SECONDS", in: 60...86_400 * 30).map { .seconds($0) } ?? accessTokenLifetime
        bcryptCost = try integer("BCRYPT_COST", in: 10...16) ?? bcryptCost
        activationTTL = try integer("ACTIVATION_TTL_HOURS", in: 1...24 * 30).map { .seconds($0 * 3600) } ?? activationTTL
        if let url = text("PUBLIC_BASE_URL") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw SettingsError("PUBLIC_BASE_URL must start with http:// or https://, not \"\(url)\"")
            }
            publicBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        paymentWebhookSecret = text("PAYMENT_WEBHOOK_SECRET", secret: true)
        resultsAPIKey = text("RESULTS_API_KEY", secret: true)
        anonymousBets = try boolean("ANONYMOUS_BETS") ?? anonymousBets
        loginMaxFailures = try integer("LOGIN_MAX_FAILURES", in: 1...1000) ?? loginMaxFailures
        seedAdminPassword = text("SEED_ADMIN_PASSWORD", secret: true)
        seedPlayerPassword = text("SEED_PLAYER_PASSWORD", secret: true)
        seedTraderPassword = text("SEED_TRADER_PASSWORD", secret: true)
        loginLockout = try integer("LOGIN_LOCKOUT_SECONDS", in: 1...86_400).map { .seconds($0) } ?? loginLockout
        loginFailuresPerHour = try integer("LOGIN_FAILURES_PER_HOUR", in: 1...100_000) ?? loginFailuresPerHour
        if let header = text("TRUSTED_PROXY_HEADER") {
            // An HTTP field name (RFC 9110's token).
            guard header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"\"(),/:;<=>?@[\\]{}".utf8.contains($0) }) else {
                throw SettingsError("TRUSTED_PROXY_HEADER must be a header name such as X-Forwarded-For, not \"\(header)\"")
            }
            trustedProxyHeader = header
        }
        passwordRateLimit.perMinute = try integer("AUTH_RATE_PER_MINUTE", in: 1...100_000_000) ?? passwordRateLimit.perMinute
        passwordRateLimit.burst = try integer("AUTH_RATE_BURST", in: 1...100_000_000) ?? passwordRateLimit.burst
        playRateLimit.perMinute = try integer("PLAYS_RATE_PER_MINUTE", in: 1...100_000_000) ?? playRateLimit.perMinute
        playRateLimit.burst = try integer("PLAYS_RATE_BURST", in: 1...100_000_000) ?? playRateLimit.burst
        bcryptThreads = try integer("BCRYPT_THREADS", in: 1...256) ?? bcryptThreads
        bcryptQueueLimit = try integer("BCRYPT_QUEUE_LIMIT", in: 0...100_000) ?? bcryptQueueLimit
        if let status = text("ESP_STATUS_IF_NEW") {
            guard status == "pending" || status == "subscribed" else {
                throw SettingsError("ESP_STATUS_IF_NEW must be pending (double opt-in) or subscribed, not \"\(status)\"")
            }
            espStatusIfNew = status
        }
        liveStreamsPerUser = try integer("LIVE_STREAMS_PER_USER", in: 1...1000) ?? liveStreamsPerUser
        apiOperationsHost = text("API_OPERATIONS_HOST") ?? apiOperationsHost
        apiOperationsPort = try integer("API_OPERATIONS_PORT", in: 0...65535) ?? apiOperationsPort
        if apiOperationsPort != 0 && apiOperationsPort == port {
            throw SettingsError(
                "API_OPERATIONS_PORT (\(apiOperationsPort)) must differ from WEB_SERVER_PORT: the operations routes are not public")
        }

        if let url = text("ESP_URL") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw SettingsError("ESP_URL must start with http:// or https://, not \"\(url)\"")
            }
            guard let list = text("ESP_LIST_ID"), list.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else {
                throw SettingsError("ESP_URL needs ESP_LIST_ID: the list's id, printable ASCII without spaces or /")
            }
            guard let key = text("ESP_API_KEY", secret: true) else { throw SettingsError("ESP_URL needs ESP_API_KEY") }
            (espURL, espListID, espAPIKey) = (url, list, key)
        }
        espLookupTimeout = try milliseconds("ESP_LOOKUP_TIMEOUT_MS", in: 10...10_000) ?? espLookupTimeout
        espTimeout = try milliseconds("ESP_TIMEOUT_MS", in: 100...120_000) ?? espTimeout
        espMaxAttempts = try integer("ESP_MAX_ATTEMPTS", in: 1...100) ?? espMaxAttempts
        espRetryInitial = try milliseconds("ESP_RETRY_INITIAL_MS", in: 10...3_600_000) ?? espRetryInitial
        espRetryMaximum = try milliseconds("ESP_RETRY_MAX_MS", in: 10...86_400_000) ?? espRetryMaximum

        settlementBatchSize = try integer("SETTLEMENT_BATCH_SIZE", in: 1...Settler.maximumBatchSize) ?? settlementBatchSize
        settlementPause = try milliseconds("SETTLEMENT_PAUSE_MS", in: 0...60_000) ?? settlementPause
        workerName = text("WORKER_NAME") ?? workerName
        workerBlock = try milliseconds("WORKER_BLOCK_MS", in: 10...60_000) ?? workerBlock
        workerClaimInterval = try milliseconds("WORKER_CLAIM_INTERVAL_MS", in: 10...3_600_000) ?? workerClaimInterval
        workerClaimMinIdle = try milliseconds("WORKER_CLAIM_MIN_IDLE_MS", in: 100...86_400_000) ?? workerClaimMinIdle
        workerMaxDeliveries = try integer("WORKER_MAX_DELIVERIES", in: 1...1000) ?? workerMaxDeliveries
        workerRequeueAfter = try milliseconds("WORKER_REQUEUE_AFTER_MS", in: 1000...604_800_000) ?? workerRequeueAfter
        holdReconcileInterval = try milliseconds("HOLD_RECONCILE_INTERVAL_MS", in: 10...3_600_000) ?? holdReconcileInterval
        holdMaximumAge = try milliseconds("HOLD_MAX_AGE_MS", in: 100...86_400_000) ?? holdMaximumAge
        // Re-queueing an entry a live or a dead worker still holds would only make duplicate work:
        // the claim of a dead worker's entries must come first.
        guard workerRequeueAfter > workerClaimMinIdle + workerClaimInterval else {
            throw SettingsError(
                "WORKER_REQUEUE_AFTER_MS (\(workerRequeueAfter.inMilliseconds)) must be more than WORKER_CLAIM_MIN_IDLE_MS + "
                    + "WORKER_CLAIM_INTERVAL_MS (\((workerClaimMinIdle + workerClaimInterval).inMilliseconds))")
        }
        if let symbols = text("CRYPTO_SYMBOLS") {
            let list = symbols.split(separator: ",").map { String($0.trimmingSpaces).uppercased() }
            guard !list.isEmpty, list.allSatisfy(PriceStore.isValidSymbol) else {
                throw SettingsError("CRYPTO_SYMBOLS must be a comma-separated list of 1 to 10 characters A-Z 0-9 each, not \"\(symbols)\"")
            }
            cryptoSymbols = list
        }
        maximumLeverage = try integer("MAX_LEVERAGE", in: 1...1000) ?? maximumLeverage
        let chosenShortest = try integer("TRADE_MIN_SECONDS", in: 1...31_536_000)
        let longest = try integer("TRADE_MAX_SECONDS", in: 1...31_536_000) ?? tradeDurations.upperBound
        maximumTradeStake = try money("MAX_TRADE_AMOUNT") ?? maximumTradeStake
        try checkMoneyLimits()
        maximumQuoteAge = try integer("MAX_QUOTE_AGE_SECONDS", in: 1...86_400).map { .seconds($0) } ?? maximumQuoteAge
        priceToleranceBasisPoints = try integer("PRICE_TOLERANCE_BPS", in: 0...10_000) ?? priceToleranceBasisPoints
        cmcAPIKey = text("CMC_API_KEY", secret: true)
        if let url = text("CMC_BASE_URL") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw SettingsError("CMC_BASE_URL must start with http:// or https://, not \"\(url)\"")
            }
            cmcBaseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        cmcRefresh = try integer("CMC_REFRESH_SECONDS", in: 1...86_400).map { .seconds($0) } ?? cmcRefresh
        priceFeedTimeout = try milliseconds("PRICE_FEED_TIMEOUT_MS", in: 100...120_000) ?? priceFeedTimeout
        simulatedFeedInterval = try milliseconds("SIMULATED_FEED_INTERVAL_MS", in: 10...3_600_000) ?? simulatedFeedInterval
        simulatedFeedSeed = try integer("SIMULATED_FEED_SEED", in: 0...Int.max).map { UInt64($0) } ?? simulatedFeedSeed
        if let feed = text("PRICE_FEED") {
            guard let kind = PriceFeedKind(rawValue: feed.lowercased()) else {
                throw SettingsError("PRICE_FEED must be simulated, coinmarketcap or none, not \"\(feed)\"")
            }
            priceFeed = kind
        } else {
            priceFeed = cmcAPIKey == nil ? .simulated : .coinmarketcap
        }
        if priceFeed == .coinmarketcap && cmcAPIKey == nil { throw SettingsError("PRICE_FEED=coinmarketcap needs CMC_API_KEY") }
        try setTradeDurations(shortest: chosenShortest, longest: longest)
        tradePollInterval = try milliseconds("TRADE_POLL_MS", in: 10...60_000) ?? tradePollInterval
        tradeBatchSize = try integer("TRADE_BATCH_SIZE", in: 1...5000) ?? tradeBatchSize
        workerHTTPHost = text("WORKER_HTTP_HOST") ?? workerHTTPHost
        workerHTTPPort = try integer("WORKER_HTTP_PORT", in: 0...65535) ?? workerHTTPPort
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "worker" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
