import ArgumentParser
import BetMaker
import Logging
import RedisClient
import ServiceLifecycle
import UnixSignals

@main
struct BetMakerWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "betmaker-worker",
        abstract: "The bet-maker settlement worker.",
        subcommands: [Run.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle reported events (the default). Settings come from the environment and .env.")

    @Option(help: "The .env file to read settings from, if it exists.")
    var envFile = ".env"

    func run() async throws {
        let settings: Settings
        do {
            settings = try await Settings.load(envFile: envFile)
        } catch let error as SettingsError {
            print("Invalid settings: \(error)")
            throw ExitCode(2)
        }
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        var logger = Logger(label: "betmaker-worker")
        logger.logLevel = settings.logLevel
        var redisConfiguration = settings.redis
        redisConfiguration.clientName = "betmaker-worker:\(settings.workerName)"
        let redis = RedisClient(configuration: redisConfiguration, logger: Logger(label: "redis"))
        let worker = SettlementWorker(redis: redis, keys: settings.keys, configuration: settings.workerConfiguration, logger: logger)
        logger.info(
            "Starting",
            metadata: [
                "redis": "\(settings.redis.redactedURL)", "consumer": "\(settings.workerName)", "key_prefix": "\(settings.keyPrefix)",
            ])
        // The worker stops first on SIGTERM, so it can still acknowledge what it finished.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: redis),
                    .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        try await group.run()
    }
}
