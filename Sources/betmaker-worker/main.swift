import ArgumentParser
import BetMaker
import BetMakerRuntime
import BetMakerWorker
import Logging
import RedisClient
import ServiceLifecycle

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
        let metrics = MetricsSetup.bootstrap()
        logger.info(
            "Starting",
            metadata: [
                "redis": "\(settings.redis.redactedURL)", "consumer": "\(settings.workerName)", "key_prefix": "\(settings.keyPrefix)",
            ])
        try await buildWorker(settings: settings, logger: logger, metrics: metrics).run()
    }
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
                // Judging data of another layout would report nonsense: refuse it, as the worker does.
                let verdict = try await StorageSchema.check(redis: redis, keys: settings.keys, claim: false)
                if let refusal = StorageSchema.refusal(verdict, keys: settings.keys) { throw SchemaGate.Refusal(description: refusal) }
                return try await InvariantChecker(
                    redis: redis, keys: settings.keys, maximumHoldAge: settings.holdMaximumAge + settings.holdReconcileInterval * 2
                )
                .check { violation in print(violation) }
            }
        } catch {
            print("Cannot check \(settings.redis.redactedURL): \(error)")
            throw ExitCode(2)
        }
        print(report.summary)
        if !report.isClean { throw ExitCode(1) }
    }
}
