import ArgumentParser
import BetMaker
import BetMakerAPI
import Hummingbird
import Logging
import RedisClient

@main
struct BetMakerAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "betmaker-api",
        abstract: "The bet-maker HTTP API.",
        subcommands: [Serve.self, HealthCheck.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API (the default). Settings come from the environment and .env.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings = try await loadSettings(envFile: envFile)
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        var logger = Logger(label: "betmaker-api")
        logger.logLevel = settings.logLevel
        logger.info(
            "Starting",
            metadata: [
                "redis": "\(settings.redis.redactedURL)", "address": "\(settings.host):\(settings.port)",
                "key_prefix": "\(settings.keyPrefix)",
            ])
        let app = buildApplication(settings: settings, logger: logger, metrics: MetricsSetup.bootstrap())
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
        let settings = try await loadSettings(envFile: envFile)
        let host = settings.host == "0.0.0.0" ? "127.0.0.1" : settings.host
        let status = try await HealthProbe.status(host: host, port: settings.port, path: path)
        guard status == 200 else {
            print("\(path) answered \(status)")
            throw ExitCode(1)
        }
    }
}

func loadSettings(envFile: String) async throws -> Settings {
    do {
        return try await Settings.load(envFile: envFile)
    } catch let error as SettingsError {
        print("Invalid settings: \(error)")
        throw ExitCode(2)
    }
}
