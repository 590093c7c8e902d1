import BetMaker
import BetMakerAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

/// The OpenAPI document (`Sources/BetMakerAPI/openapi.json`) against the code: the router serves
/// exactly the documented operations, every example in the document fits its schema, and real
/// answers of the router fit the schema and headers the document gives for their operation and status.
@Suite struct OpenAPIContractTests {
    static let document: JSONValue = {
        do {
            return try JSONParser.parse(OpenAPIDocument.json, maximumDepth: 64)
        } catch {
            fatalError("openapi.json is not JSON: \(error)")
        }
    }()

    static let validator = JSONSchemaValidator(root: document)
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// The document's operations as "METHOD /path".
    static var documentedOperations: Set<String> {
        var operations: Set<String> = []
        for path in document["paths"]?.members ?? [] {
            for operation in path.value.members { operations.insert("\(operation.key.uppercased()) \(path.key)") }
        }
        return operations
    }

    // MARK: The router and the document

    @Test func theRouterServesExactlyTheDocumentedOperations() async throws {
        try await withContractRouter { routes, client in
            #expect(Self.document["openapi"] == .string("3.1.0"))
            // The router's routes include a 405 handler for each method a path does not support
            // (`methodsNotAllowed`); an operation is a route that does not answer 405.
            var served: Set<String> = []
            var refused: [String: Set<String>] = [:]
            for route in routes {
                let (method, path) = (route.0, route.1)
                #expect(!path.hasPrefix("/bench/"), "the bench route exists only with BENCH_NOOP_ENDPOINT=true")
                let response = try await client.execute(uri: Self.concrete(path), method: method)
                if response.status == .methodNotAllowed {
                    refused[path, default: []].insert(method.rawValue)
                    try Self.check(response, method: method.rawValue, path: path, response: Self.component("responses", "MethodNotAllowed"))
                } else {
                    served.insert("\(method.rawValue) \(path)")
                }
            }
            let documented = Self.documentedOperations
            #expect(served.subtracting(documented).isEmpty, "routes not in openapi.json: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "operations not served: \(documented.subtracting(served).sorted())")
            #expect(documented.count >= 10)

            // Every other method on a documented path is a 405 naming the documented ones in Allow.
            for path in Self.document["paths"]?.members ?? [] {
                let allowed = Self.methods.filter { path.value[$0.rawValue.lowercased()] != nil }
                for method in Self.methods where !allowed.contains(method) {
                    #expect(refused[path.key]?.contains(method.rawValue) == true, "\(method) \(path.key) is not answered with 405")
                    let response = try await client.execute(uri: Self.concrete(path.key), method: method)
                    #expect(response.status == .methodNotAllowed, "\(method) \(path.key)")
                    #expect(response.headers[.allow] == allowed.map(\.rawValue).joined(separator: ", "), "\(method) \(path.key)")
                }
            }

            // `/openapi.json` serves the embedded document byte for byte; `/docs` shows it.
            let servedDocument = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(Array(servedDocument.body.readableBytesView) == OpenAPIDocument.json)
            let page = String(buffer: try await client.execute(uri: "/docs", method: .get).body)
            #expect(page.contains(#"url: "/openapi.json""#))
        }
    }

    /// The router's routes as (method, path), read from Hummingbird's route list.
    private func withContractRouter(
        _ body: @Sendable ([(HTTPRequest.Method, String)], any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withRedisServer { server in
            var settings = Settings()
            settings.redis = server.configuration
            settings.keyPrefix = "t:"
            let redis = RedisClient(configuration: server.configuration)
            let router = buildRouter(settings: settings, redis: redis)
            let routes = router.routes.map { ($0.method, $0.path.description) }
            let app = Application(router: router, services: [redis])
            try await app.test(.router) { client in try await body(routes, client) }
        }
    }

    /// A path template with its parameters filled in.
    private static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: "{id}", with: "000000000000").replacingOccurrences(of: "{event_id}", with: "e1")
    }

    // MARK: Examples

    @Test func everyExampleInTheDocumentFitsItsSchema() throws {
        var checked = 0
        var failures: [String] = []
        Self.walk(Self.document, at: "#") { value, pointer in
            // A schema with `examples` (an array): each example against the schema itself.
            if case .array(let examples) = value["examples"], value["schema"] == nil {
                for (index, example) in examples.enumerated() {
                    checked += 1
                    failures += Self.validator.errors(example, against: value).map { "\(pointer)/examples/\(index): \($0)" }
                }
            }
            // A media type, parameter or header: its `example` and `examples[*].value` against its `schema`.
            if let schema = value["schema"] {
                if let example = value["example"] {
                    checked += 1
                    failures += Self.validator.errors(example, against: schema).map { "\(pointer)/example: \($0)" }
                }
                for example in value["examples"]?.members ?? [] {
                    guard let exampleValue = example.value["value"] else {
                        failures.append("\(pointer)/examples/\(example.key) has no value")
                        continue
                    }
                    checked += 1
                    failures += Self.validator.errors(exampleValue, against: schema).map { "\(pointer)/examples/\(example.key): \($0)" }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(checked >= 60, "only \(checked) examples found")
    }

    @Test func everyBodyParameterAndHeaderHasAnExample() throws {
        var missing: [String] = []
        Self.walk(Self.document, at: "#") { value, pointer in
            if value["schema"] != nil, value["example"] == nil, value["examples"]?.members.isEmpty ?? true {
                missing.append(pointer)
            }
        }
        #expect(missing.isEmpty, "without examples: \(missing)")
    }

    /// Calls `visit` on every object of `value`, with its JSON pointer.
    private static func walk(_ value: JSONValue, at pointer: String, _ visit: (JSONValue, String) -> Void) {
        switch value {
        case .object(let members):
            visit(value, pointer)
            for member in members {
                walk(member.value, at: pointer + "/" + member.key.replacingOccurrences(of: "/", with: "~1"), visit)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() { walk(element, at: "\(pointer)/\(index)", visit) }
        default:
            break
        }
    }

    @Test func theValidatorRefusesWhatItShould() throws {
        let bet = try #require(Self.validator.resolve("#/components/schemas/Bet"))
        let good = try JSONParser.parse(
            Array(
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
                    .utf8))
        #expect(Self.validator.errors(good, against: bet).isEmpty)
        let wrong: [(String, String)] = [
            (
                "missing",
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z"}"#
            ),
            (
                "extra",
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null,"x":1}"#
            ),
            (
                "pattern",
                #"{"id":"0QZ7M3R1K8AU","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "enum",
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"void","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "type",
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":10.5,"status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "oneOf",
                #"{"id":"0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":5}"#
            ),
        ]
        for (name, text) in wrong {
            let instance = try JSONParser.parse(Array(text.utf8))
            #expect(!Self.validator.errors(instance, against: bet).isEmpty, "\(name) was accepted")
        }
        let request = try #require(Self.validator.resolve("#/components/schemas/BetRequest"))
        for text in [
            #"{"event_id":-1,"amount":1}"#, #"{"event_id":1.5,"amount":1}"#, #"{"event_id":"a","amount":0}"#,
            #"{"event_id":"a","amount":"1.001"}"#,
        ] {
            #expect(!Self.validator.errors(try JSONParser.parse(Array(text.utf8)), against: request).isEmpty, "\(text) was accepted")
        }
        let problem = try #require(Self.validator.resolve("#/components/schemas/ValidationProblem"))
        let noErrors = #"{"type":"/problems/validation","title":"t","status":422,"detail":"d","instance":"/bets","errors":[]}"#
        #expect(!Self.validator.errors(try JSONParser.parse(Array(noErrors.utf8)), against: problem).isEmpty)
        let unknownKeyword = try JSONParser.parse(Array(#"{"type":"string","uniqueItems":true}"#.utf8))
        #expect(!Self.validator.errors(.string("x"), against: unknownKeyword).isEmpty)
    }

    // MARK: Real answers

    @Test func realAnswersFitTheDocument() async throws {
        try await withContractRouter { _, client in
            var seen: Set<String> = []
            func answer(
                _ response: TestResponse, _ method: HTTPRequest.Method, _ path: String, _ status: HTTPResponse.Status,
                sourceLocation: SourceLocation = #_sourceLocation
            ) throws {
                #expect(response.status == status, "\(method) \(path): \(String(buffer: response.body))", sourceLocation: sourceLocation)
                seen.insert("\(method.rawValue) \(path) \(response.status.code)")
                try Self.check(response, method: method.rawValue, path: path, sourceLocation: sourceLocation)
            }
            let json: HTTPFields = [.contentType: "application/json"]

            // Bets: placed, replayed, read, listed over two pages.
            let placed = try await client.execute(
                uri: "/bets", method: .post, headers: json + [.idempotencyKeyTest: "key-1"],
                body: ByteBuffer(string: #"{"event_id": 42, "amount": 10.5}"#))
            try answer(placed, .post, "/bets", .created)
            let id = try #require(try JSONParser.parse(placed.body.readableBytesView)["id"]?.string)
            let replayed = try await client.execute(
                uri: "/bets", method: .post, headers: json + [.idempotencyKeyTest: "key-1"],
                body: ByteBuffer(string: #"{"event_id": 42, "amount": 10.5}"#))
            try answer(replayed, .post, "/bets", .created)
            #expect(replayed.headers[.idempotentReplayedTest] == "true")
            let second = try await client.execute(
                uri: "/bets", method: .post, headers: json, body: ByteBuffer(string: #"{"event_id": "42", "amount": "3"}"#))
            try answer(second, .post, "/bets", .created)
            try answer(try await client.execute(uri: "/bets/\(id)", method: .get), .get, "/bets/{id}", .ok)
            let page = try await client.execute(uri: "/bets?limit=1", method: .get)
            try answer(page, .get, "/bets", .ok)
            let link = try #require(page.headers[.linkTest], "a page with more after it has a Link header")
            let next = String(link.dropFirst().prefix { $0 != ">" })
            let last = try await client.execute(uri: next, method: .get)
            try answer(last, .get, "/bets", .ok)
            #expect(last.headers[.linkTest] == nil)
            try answer(try await client.execute(uri: "/bets?event_id=42&status=pending", method: .get), .get, "/bets", .ok)

            // Events: open, reported, reported again, closed for bets, a conflicting result.
            try answer(try await client.execute(uri: "/events/42", method: .get), .get, "/events/{event_id}", .ok)
            let report = ByteBuffer(string: #"{"status": "WIN"}"#)
            try answer(
                try await client.execute(uri: "/events/42", method: .put, headers: json, body: report), .put, "/events/{event_id}",
                .accepted)
            try answer(
                try await client.execute(uri: "/events/42", method: .put, headers: json, body: report), .put, "/events/{event_id}",
                .accepted)
            try answer(
                try await client.execute(uri: "/events/42", method: .put, headers: json, body: ByteBuffer(string: #"{"status": "LOSE"}"#)),
                .put, "/events/{event_id}", .conflict)
            try answer(
                try await client.execute(
                    uri: "/bets", method: .post, headers: json, body: ByteBuffer(string: #"{"event_id": 42, "amount": 1}"#)),
                .post, "/bets", .conflict)
            try answer(try await client.execute(uri: "/events/42", method: .get), .get, "/events/{event_id}", .ok)

            // Refusals.
            let invalidBet = ByteBuffer(string: #"{"amount": 10.123, "status": "won"}"#)
            try answer(
                try await client.execute(uri: "/bets", method: .post, headers: json, body: invalidBet), .post, "/bets",
                .unprocessableContent)
            try answer(
                try await client.execute(
                    uri: "/bets", method: .post, headers: json + [.idempotencyKeyTest: "key-1"],
                    body: ByteBuffer(string: #"{"event_id": 43, "amount": 1}"#)),
                .post, "/bets", .unprocessableContent)
            for (uri, body) in [("/bets", #"{"event_id": 1"#), ("/events/7", #"{"status":"#)] {
                let path = uri == "/bets" ? "/bets" : "/events/{event_id}"
                let method: HTTPRequest.Method = uri == "/bets" ? .post : .put
                try answer(
                    try await client.execute(uri: uri, method: method, headers: json, body: ByteBuffer(string: body)), method, path,
                    .badRequest)
                try answer(
                    try await client.execute(
                        uri: uri, method: method, headers: [.contentType: "text/plain"], body: ByteBuffer(string: body)),
                    method, path, .unsupportedMediaType)
                try answer(
                    try await client.execute(
                        uri: uri, method: method, headers: json, body: ByteBuffer(string: body + String(repeating: " ", count: 70_000))),
                    method, path, .contentTooLarge)
            }
            try answer(
                try await client.execute(uri: "/events/7", method: .put, headers: json, body: ByteBuffer(string: #"{"result": "WIN"}"#)),
                .put, "/events/{event_id}", .unprocessableContent)
            try answer(try await client.execute(uri: "/bets?status=open&limit=0", method: .get), .get, "/bets", .unprocessableContent)
            try answer(try await client.execute(uri: "/bets/000000000000", method: .get), .get, "/bets/{id}", .notFound)
            try answer(try await client.execute(uri: "/events/bad!id", method: .get), .get, "/events/{event_id}", .unprocessableContent)

            // Operations and documentation.
            for path in ["/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs"] {
                try answer(try await client.execute(uri: path, method: .get, headers: [.requestIDTest: "contract-1"]), .get, path, .ok)
            }

            // Every documented answer was seen, but for 503s (Redis down: the fault suite's business).
            var documented: Set<String> = []
            for path in Self.document["paths"]?.members ?? [] {
                for operation in path.value.members {
                    for response in operation.value["responses"]?.members ?? [] where response.key != "503" {
                        documented.insert("\(operation.key.uppercased()) \(path.key) \(response.key)")
                    }
                }
            }
            #expect(documented.subtracting(seen).isEmpty, "documented but not seen: \(documented.subtracting(seen).sorted())")
        }
    }

    @Test func answersWithoutRedisFitTheDocument() async throws {
        // Nothing listens on the port: every call that needs Redis is a 503 (storage-unavailable).
        var settings = Settings()
        settings.redis = RedisConfiguration(port: freeLoopbackPort())
        settings.redis.connectTimeout = .milliseconds(200)
        let redis = RedisClient(configuration: settings.redis)
        let app = Application(router: buildRouter(settings: settings, redis: redis), services: [redis])
        try await app.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let answers: [(HTTPRequest.Method, String, String, String?)] = [
                (.post, "/bets", "/bets", #"{"event_id": 1, "amount": 1}"#),
                (.get, "/bets", "/bets", nil),
                (.get, "/bets/000000000000", "/bets/{id}", nil),
                (.put, "/events/1", "/events/{event_id}", #"{"status": "WIN"}"#),
                (.get, "/events/1", "/events/{event_id}", nil),
                (.get, "/health/ready", "/health/ready", nil),
            ]
            for (method, uri, path, body) in answers {
                let response = try await client.execute(
                    uri: uri, method: method, headers: body == nil ? [:] : json, body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == .serviceUnavailable, "\(method) \(uri): \(String(buffer: response.body))")
                try Self.check(response, method: method.rawValue, path: path)
            }
        }
    }

    // MARK: Checking one answer

    /// Checks an answer against the document: the operation documents its status and media type,
    /// its body fits the schema, every required header is there, every documented header fits its
    /// schema, and every header the API sets on purpose is documented for this answer.
    private static func check(
        _ response: TestResponse, method: String, path: String, response documentedResponse: JSONValue? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let what = "\(method) \(path) \(response.status.code)"
        let documented: JSONValue
        if let documentedResponse {
            documented = documentedResponse
        } else {
            let operation = try #require(
                Self.document["paths"]?[path]?[method.lowercased()], "\(method) \(path) is not documented", sourceLocation: sourceLocation)
            documented = try #require(
                Self.resolved(operation["responses"]?[String(response.status.code)]), "\(what) is not documented",
                sourceLocation: sourceLocation)
        }
        let contentType = try #require(response.headers[.contentType], "\(what) has no Content-Type", sourceLocation: sourceLocation)
        let mediaType = String(contentType.prefix { $0 != ";" })
        let media = try #require(
            documented["content"]?[mediaType], "\(what): \(mediaType) is not documented", sourceLocation: sourceLocation)
        let schema = try #require(media["schema"], sourceLocation: sourceLocation)
        let body: JSONValue
        if mediaType.hasSuffix("json") {
            body = try JSONParser.parse(response.body.readableBytesView, maximumDepth: 64)
        } else {
            body = .string(String(buffer: response.body))
        }
        let errors = Self.validator.errors(body, against: schema)
        #expect(errors.isEmpty, "\(what): \(errors)", sourceLocation: sourceLocation)

        let headers = documented["headers"]?.members ?? []
        for header in headers {
            let definition = try #require(Self.resolved(header.value), sourceLocation: sourceLocation)
            let value = response.headers[HTTPField.Name(header.key)!]
            if definition["required"] == .bool(true) {
                #expect(value != nil, "\(what) has no \(header.key) header", sourceLocation: sourceLocation)
            }
            if let value, let schema = definition["schema"] {
                let errors = Self.validator.errors(.string(value), against: schema)
                #expect(errors.isEmpty, "\(what) \(header.key): \(errors)", sourceLocation: sourceLocation)
            }
        }
        for name in ["Location", "Link", "Idempotent-Replayed", "Retry-After", "Allow", "X-Request-Id"]
        where response.headers[HTTPField.Name(name)!] != nil {
            #expect(headers.contains { $0.key == name }, "\(what) sends \(name), undocumented", sourceLocation: sourceLocation)
        }
    }

    private static func component(_ kind: String, _ name: String) -> JSONValue? {
        validator.resolve("#/components/\(kind)/\(name)")
    }

    /// Follows a `$ref`, if `value` is one.
    private static func resolved(_ value: JSONValue?) -> JSONValue? {
        guard let value else { return nil }
        if let reference = value["$ref"]?.string { return validator.resolve(reference) }
        return value
    }
}

extension HTTPFields {
    fileprivate static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var fields = lhs
        fields.append(contentsOf: rhs)
        return fields
    }
}

extension HTTPField.Name {
    fileprivate static let idempotencyKeyTest = HTTPField.Name("Idempotency-Key")!
    fileprivate static let idempotentReplayedTest = HTTPField.Name("Idempotent-Replayed")!
    fileprivate static let linkTest = HTTPField.Name("Link")!
    fileprivate static let requestIDTest = HTTPField.Name("X-Request-Id")!
}
