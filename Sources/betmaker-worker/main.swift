import ArgumentParser
import BetMaker
import BetMakerAPI
import Hummingbird
import Logging
import Prometheus
import RedisClient
import ServiceLifecycle
import UnixSignals

@main
struct BetMakerWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "betmaker-worker",
        abstract: "The bet-maker settlement worker.",
        subcommands: [Run.self, HealthCheck.self, Check.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle reported events (the default). Settings come from the environment and .env.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        var logger = Logger(label: "betmaker-worker")
        logger.logLevel = settings.logLevel
        var redisConfiguration = settings.redis
        redisConfiguration.clientName = "betmaker-worker:\(settings.workerName)"
        let redis = RedisClient(configuration: redisConfiguration, logger: Logger(label: "redis"))
        let metrics = MetricsSetup.bootstrap()
        let worker = SettlementWorker(redis: redis, keys: settings.keys, configuration: settings.workerConfiguration, logger: logger)
        logger.info(
            "Starting",
            metadata: [
                "redis": "\(settings.redis.redactedURL)", "consumer": "\(settings.workerName)", "key_prefix": "\(settings.keyPrefix)",
            ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: redis)]
        if settings.workerHTTPPort != 0 {
            services.append(.init(service: operationsServer(settings: settings, redis: redis, metrics: metrics, logger: logger)))
        }
        // The worker stops first on SIGTERM, so it can still acknowledge what it finished.
        services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        try await group.run()
    }
}

/// `/health/live`, `/health/ready` and `/metrics` of the worker, on a port of its own.
func operationsServer(settings: Settings, redis: RedisClient, metrics: PrometheusCollectorRegistry, logger: Logger) -> some Service {
    let router = Router()
    let streamGauges = StreamGauges(redis: redis, keys: settings.keys, overdueAfter: settings.workerRequeueAfter)
    OperationsRoutes(redis: redis, keys: settings.keys, metrics: metrics, beforeMetrics: streamGauges.sample).register(on: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.workerHTTPHost, port: settings.workerHTTPPort), serverName: "bet-maker-worker"),
        logger: logger)
}

/// Exit code 0 when the worker's `GET /health/ready` answers 200; for container health checks.
struct HealthCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "healthcheck", abstract: "Check the running worker's readiness.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        try await HealthProbe.check(host: settings.workerHTTPHost, port: settings.workerHTTPPort, path: "/health/ready")
    }
}

/// Scans Redis for broken invariants (see `InvariantChecker`): one line per violation, then a summary.
/// Exit status 0 when clean, 1 on any violation, 2 on bad settings or an unreachable Redis.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the bets and events in Redis for broken invariants.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        var redisConfiguration = settings.redis
        redisConfiguration.clientName = "betmaker-worker:check"
        var redisLogger = Logger(label: "redis")
        redisLogger.logLevel = .critical
        let report: InvariantChecker.Report
        do {
            report = try await RedisClient(configuration: redisConfiguration, logger: redisLogger).withRunning { redis in
                _ = try await redis.ping()
                return try await InvariantChecker(redis: redis, keys: settings.keys).check { violation in print(violation) }
            }
        } catch {
            print("Cannot check \(settings.redis.redactedURL): \(error)")
            throw ExitCode(2)
        }
        print(report.summary)
        if !report.isClean { throw ExitCode(1) }
    }
}
