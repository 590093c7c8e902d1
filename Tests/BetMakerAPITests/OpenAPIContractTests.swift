import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

/// The OpenAPI document (`Sources/BetMakerAPI/openapi.json`) against the code: the router serves
/// exactly the documented operations, every example in the document fits its schema, and real
/// answers of the router fit the schema and headers the document gives for their operation and status.
@Suite struct OpenAPIContractTests {
    /// The served document; an empty object if it is not JSON (`theDocumentIsJSON` fails then, and the
    /// other tests with it, rather than the whole test process).
    static let document: JSONValue = (try? JSONParser.parse(OpenAPIDocument.json, maximumDepth: 64)) ?? .object([])

    static let validator = JSONSchemaValidator(root: document)
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
    /// What a client (or schemathesis) may try on a path: the documented methods and others.
    static let probedMethods: [HTTPRequest.Method] =
        [.get, .head, .post, .put, .patch, .delete, .options, .trace] + ["QUERY", "PROPFIND"].map { HTTPRequest.Method($0)! }

    /// The document's operations as "METHOD /path".
    static var documentedOperations: Set<String> {
        var operations: Set<String> = []
        for path in document["paths"]?.members ?? [] {
            for operation in path.value.members { operations.insert("\(operation.key.uppercased()) \(path.key)") }
        }
        return operations
    }

    /// The document's operations: method, path template and the operation object.
    static var operations: [(method: HTTPRequest.Method, path: String, operation: JSONValue)] {
        (document["paths"]?.members ?? []).flatMap { path in
            path.value.members.compactMap { operation in
                HTTPRequest.Method(operation.key.uppercased()).map { ($0, path.key, operation.value) }
            }
        }
    }

    /// The results feed's key the contract router is configured with.
    static let resultsAPIKey = "contract-results-key"
    static let password = "a long password"

    // MARK: The router and the document

    @Test func theDocumentIsJSON() throws {
        _ = try JSONParser.parse(OpenAPIDocument.json, maximumDepth: 64)
    }

    @Test func theRouterServesExactlyTheDocumentedOperations() async throws {
        try await withContractRouter { routes, client, _ in
            #expect(Self.document["openapi"] == .string("3.1.0"))
            // Every route is an operation. HEAD is answered wherever GET is (the router's
            // `autoGenerateHeadEndpoints`) and not documented as an operation of its own. The web UI's
            // pages and assets (`/`, `/ui/...` but its stream) are HTML for browsers, not API operations, and are left out
            // (docs/ARCHITECTURE.md, "The web UI"); `WebUITests` checks them.
            var served: Set<String> = []
            var anonymous: [String: TestResponse] = [:]
            for route in routes where route.0 != .head && !Self.isWebUIPage(route.1) {
                let (method, path) = (route.0, route.1)
                #expect(!path.hasPrefix("/bench/"), "the bench route exists only with BENCH_NOOP_ENDPOINT=true")
                let response = try await client.execute(uri: Self.concrete(path), method: method)
                #expect(response.status != .methodNotAllowed, "\(method) \(path)")
                served.insert("\(method.rawValue) \(path)")
                anonymous["\(method.rawValue) \(path)"] = response
            }
            let documented = Self.documentedOperations
            #expect(served.subtracting(documented).isEmpty, "routes not in openapi.json: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "operations not served: \(documented.subtracting(served).sorted())")
            #expect(documented.count >= 10)

            // Security as documented: an operation without an anonymous alternative (`{}`) answers a
            // request without credentials with 401; one without `security` never asks for them. Either
            // way a token that is sent is checked, so every operation taking one documents 401 and 403.
            for (method, path, operation) in Self.operations {
                let what = "\(method.rawValue) \(path)"
                let status = anonymous[what]?.status
                if case .array(let alternatives) = operation["security"] {
                    if !alternatives.contains(.object([])) {
                        #expect(status == .unauthorized, "\(what) answers \(String(describing: status)) without credentials")
                        #expect(anonymous[what]?["type"] == .string("/problems/authentication-required"), "\(what)")
                    }
                    #expect(operation["responses"]?["401"] != nil && operation["responses"]?["403"] != nil, "\(what) takes tokens")
                } else {
                    #expect(status != .unauthorized, "\(what) is documented without security but asks for credentials")
                }
            }

            // Every other method on a documented path, whatever it is, is a 405 whose Allow names the
            // documented ones (and HEAD with GET).
            for path in Self.document["paths"]?.members ?? [] {
                let documented = Self.methods.filter { path.value[$0.rawValue.lowercased()] != nil }
                let allowed = documented.flatMap { $0 == .get ? [.get, .head] : [$0] }
                for method in Self.probedMethods where !allowed.contains(method) {
                    let response = try await client.execute(uri: Self.concrete(path.key), method: method)
                    #expect(response.status == .methodNotAllowed, "\(method) \(path.key)")
                    #expect(response.headers[.allow] == allowed.map(\.rawValue).joined(separator: ", "), "\(method) \(path.key)")
                    if method != .head {
                        try Self.check(
                            response, method: method.rawValue, path: path.key, response: Self.component("responses", "MethodNotAllowed"))
                    }
                }
            }

            // `/openapi.json` serves the embedded document byte for byte; `/docs` shows it.
            let servedDocument = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(Array(servedDocument.body.readableBytesView) == OpenAPIDocument.json)
            let script = String(buffer: try await client.execute(uri: "/docs/init.js", method: .get).body)
            #expect(script.contains(#"url: "/openapi.json""#))
        }
    }

    /// The web UI's pages and assets; its live stream (`/ui/stream`) is an API operation like any other.
    static func isWebUIPage(_ path: String) -> Bool {
        path != "/ui/stream" && (path == "/" || path == "/ui" || path.hasPrefix("/ui/"))
    }

    /// Runs `body` with the router's routes as (method, path), read from Hummingbird's route list, the
    /// test client, and a Redis client of its own for what the API cannot do (making an administrator).
    /// Every feature is configured: tokens, the payment webhook, and a results API key.
    func withContractRouter(
        _ body: @Sendable ([(HTTPRequest.Method, String)], any TestClientProtocol, RedisClient) async throws -> Void
    ) async throws {
        try await withRedisServer { server in
            var settings = Settings.forTests(redis: server.configuration)
            settings.resultsAPIKey = Self.resultsAPIKey
            // Few failures lock a login, so the lockout costs few bcrypt checks.
            settings.loginMaxFailures = 3
            let redis = RedisClient(configuration: server.configuration)
            let router = try await buildRouter(settings: settings, redis: redis)
            let routes = router.routes.map { ($0.method, $0.path.description) }
            let app = Application(router: router, services: [redis])
            try await RedisClient(configuration: server.configuration).withRunning { (ownRedis) async throws in
                try await app.test(.router) { client in try await body(routes, client, ownRedis) }
            }
        }
    }

    /// A path template with its parameters filled in.
    static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: "{id}", with: "000000000000").replacingOccurrences(of: "{event_id}", with: "e1")
            .replacingOccurrences(of: "{token}", with: String(repeating: "A", count: 43))
            .replacingOccurrences(of: "{account_id}", with: "1").replacingOccurrences(of: "{user_id}", with: "1")
    }

    /// The documented path template a concrete URI is an instance of.
    static func template(of uri: String) -> String? {
        let segments = uri.prefix { $0 != "?" }.split(separator: "/", omittingEmptySubsequences: false)
        let matches = (document["paths"]?.members ?? []).map(\.key).filter { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == segments.count
                && zip(parts, segments).allSatisfy { part, segment in part == segment || (part.hasPrefix("{") && part.hasSuffix("}")) }
        }
        return matches.count == 1 ? matches[0] : nil
    }
}
