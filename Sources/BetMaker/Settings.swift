import Configuration
import Logging
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
    public var maximumStake = Money(cents: 100_000_000)
    public var maximumBodyBytes = 64 * 1024
    public var idleTimeout: Duration = .seconds(60)
    public var nodeID: Int?
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    /// Adds `POST /bench/noop` (parse a JSON body, answer a small JSON), the baseline `make bench`
    /// compares `POST /bets` with. Off unless `BENCH_NOOP_ENDPOINT=true`.
    public var benchNoopEndpoint = false

    public var settlementBatchSize = 1000
    public var settlementPause: Duration = .zero
    public var workerName = Settings.hostname()
    public var workerBlock: Duration = .seconds(5)
    public var workerClaimInterval: Duration = .seconds(10)
    public var workerClaimMinIdle: Duration = .seconds(60)
    public var workerMaxDeliveries = 10
    /// Where the worker answers `/health/*` and `/metrics`; port 0 turns that off.
    public var workerHTTPHost = "127.0.0.1"
    public var workerHTTPPort = 8081

    public enum LogFormat: String, Sendable { case text, json }

    public init() {}

    public var keys: RedisKeys { RedisKeys(prefix: keyPrefix) }

    public var workerConfiguration: SettlementWorker.Configuration {
        var configuration = SettlementWorker.Configuration(consumer: workerName)
        configuration.batchSize = settlementBatchSize
        configuration.pauseBetweenBatches = settlementPause
        configuration.block = workerBlock
        configuration.claimInterval = workerClaimInterval
        configuration.claimMinIdle = workerClaimMinIdle
        configuration.maxDeliveries = workerMaxDeliveries
        return configuration
    }

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
        redis.poolSize = try integer("REDIS_POOL_SIZE", in: 1...64) ?? redis.poolSize
        redis.commandTimeout = try milliseconds("REDIS_COMMAND_TIMEOUT_MS", in: 10...600_000) ?? redis.commandTimeout
        redis.connectTimeout = try milliseconds("REDIS_CONNECT_TIMEOUT_MS", in: 10...600_000) ?? redis.connectTimeout
        if let prefix = text("KEY_PREFIX") {
            guard EventID.isValid(prefix) else { throw SettingsError("KEY_PREFIX may hold only \(EventID.rule)") }
            keyPrefix = prefix
        }
        if let maximum = text("MAX_BET_AMOUNT") {
            do {
                maximumStake = try Money.stake(parsing: Substring(maximum), maximum: Money(cents: Int64.max))
            } catch {
                throw SettingsError("MAX_BET_AMOUNT \(error) (got \"\(maximum)\")")
            }
        }
        maximumBodyBytes = try integer("MAX_BODY_BYTES", in: 1024...16_777_216) ?? maximumBodyBytes
        idleTimeout = try milliseconds("HTTP_IDLE_TIMEOUT_MS", in: 1000...3_600_000) ?? idleTimeout
        nodeID = try integer("NODE_ID", in: 0...(BetIDGenerator.nodeCount - 1))
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

        benchNoopEndpoint = text("BENCH_NOOP_ENDPOINT")?.lowercased() == "true"

        settlementBatchSize = try integer("SETTLEMENT_BATCH_SIZE", in: 1...Settler.maximumBatchSize) ?? settlementBatchSize
        settlementPause = try milliseconds("SETTLEMENT_PAUSE_MS", in: 0...60_000) ?? settlementPause
        workerName = text("WORKER_NAME") ?? workerName
        workerBlock = try milliseconds("WORKER_BLOCK_MS", in: 10...60_000) ?? workerBlock
        workerClaimInterval = try milliseconds("WORKER_CLAIM_INTERVAL_MS", in: 10...3_600_000) ?? workerClaimInterval
        workerClaimMinIdle = try milliseconds("WORKER_CLAIM_MIN_IDLE_MS", in: 100...86_400_000) ?? workerClaimMinIdle
        workerMaxDeliveries = try integer("WORKER_MAX_DELIVERIES", in: 1...1000) ?? workerMaxDeliveries
        workerHTTPHost = text("WORKER_HTTP_HOST") ?? workerHTTPHost
        workerHTTPPort = try integer("WORKER_HTTP_PORT", in: 0...65535) ?? workerHTTPPort
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "worker" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
