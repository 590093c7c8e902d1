import BetMaker
import BetMakerAPI
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import TestSupport
import Testing

/// Runs `body` with the API's router in front of a fresh Redis (no socket: Hummingbird's `.router`
/// testing), and a separate Redis client for looking at what the API stored.
func withAPI(
    configure: (inout Settings) -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, RedisServer, RedisClient) async throws -> Void
) async throws {
    try await withRedisServer { server in
        var settings = Settings.forTests(redis: server.configuration)
        configure(&settings)
        let app = try await buildApplication(settings: settings, logger: Logger(label: "test"))
        try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
            try await app.test(.router) { client in try await body(client, server, redis) }
        }
    }
}

extension Settings {
    /// An API under test: this Redis, the tests' key prefix, bcrypt's lowest allowed cost (a test
    /// logs in often), and the secrets the test processes use too.
    static func forTests(redis: RedisConfiguration) -> Settings {
        var settings = Settings()
        settings.redis = redis
        settings.keyPrefix = "t:"
        settings.bcryptCost = 10
        settings.jwtSecret = BetMakerProcesses.testJWTSecret
        settings.paymentWebhookSecret = BetMakerProcesses.testPaymentSecret
        // Every request of the router's tests comes from one (unknown) client; the limits' own tests
        // run the real processes.
        settings.passwordRateLimit = RateLimit(perMinute: 100_000, burst: 100_000)
        settings.playRateLimit = RateLimit(perMinute: 100_000, burst: 100_000)
        // No operations server: the tests that build the whole application run side by side.
        settings.apiOperationsPort = 0
        return settings
    }
}

extension TestClientProtocol {
    func postJSON(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func putJSON(_ uri: String, _ json: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .put, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    var json: JSONValue? { try? JSONParser.parse(body.readableBytesView) }
    var text: String { String(buffer: body) }

    /// A member of a JSON object body.
    subscript(_ key: String) -> JSONValue? {
        guard case .object(let members) = json else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The `field`s named in a problem's `errors`.
    var problemFields: [String] {
        guard case .array(let errors) = self["errors"] else { return [] }
        return errors.compactMap { error in
            guard case .object(let members) = error, case .string(let field) = members.first(where: { $0.key == "field" })?.value else {
                return nil
            }
            return field
        }
    }

    var isProblem: Bool { headers[.contentType] == "application/problem+json" }
}
