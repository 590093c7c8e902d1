import ArgumentParser
import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Hummingbird
import Logging
import RedisClient

@main
struct BetMakerAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "betmaker-api",
        abstract: "The bet-maker HTTP API.",
        subcommands: [Serve.self, HealthCheck.self, SeedCommand.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API (the default). Settings come from the environment and .env.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        var logger = Logger(label: "betmaker-api")
        logger.logLevel = settings.logLevel
        let (errors, warnings) = settings.servingProblems()
        for warning in warnings { logger.warning("\(warning)") }
        guard errors.isEmpty else {
            for error in errors { logger.critical("Refusing to start: \(error)") }
            throw ExitCode(2)
        }
        logger.info(
            "Starting",
            metadata: [
                "redis": "\(settings.redis.redactedURL)", "address": "\(settings.host):\(settings.port)",
                "key_prefix": "\(settings.keyPrefix)",
            ])
        let app = try await buildApplication(settings: settings, logger: logger, metrics: MetricsSetup.bootstrap())
        try await app.runService()
    }
}

/// Exit code 0 when `GET /health/ready` answers 200; for container health checks without curl.
struct HealthCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "healthcheck", abstract: "Check the running API's readiness.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    @Option(help: "The path to ask.")
    var path = "/health/ready"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        try await HealthProbe.check(host: settings.host, port: settings.port, path: path)
    }
}

/// Demo data: an administrator, a player with a funded account, open catalogue events. Idempotent.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create an administrator, two traders, a demo player with a funded account, and open events (idempotent).")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await Settings.loadForCommand(envFile: envFile)
        var logger = Logger(label: "redis")
        logger.logLevel = .critical
        var logins = Seed.Logins()
        if let password = settings.seedAdminPassword { logins.adminPassword = password }
        if let password = settings.seedPlayerPassword { logins.playerPassword = password }
        if let password = settings.seedTraderPassword { logins.traderPassword = password }
        do {
            try await RedisClient(configuration: settings.redis, logger: logger).withRunning { redis in
                try await Seed.run(settings: settings, redis: redis, logins: logins) { print($0) }
            }
        } catch let error as RedisError where error.isConnectivity {
            print("Cannot reach \(settings.redis.redactedURL): \(error)")
            throw ExitCode(2)
        } catch let refusal as SchemaGate.Refusal {
            print("Refusing to seed: \(refusal)")
            throw ExitCode(2)
        }
    }
}
