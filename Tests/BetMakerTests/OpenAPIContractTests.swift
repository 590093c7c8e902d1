import Adapters
import BetMaker
import BetMakerAPI
import BetMakerRuntime
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

    @Test func theRouterServesExactlyTheDocumentedOperations() async throws {
        try await withContractRouter { routes, client, _ in
            #expect(Self.document["openapi"] == .string("3.1.0"))
            // Every route is an operation. HEAD is answered wherever GET is (the router's
            // `autoGenerateHeadEndpoints`) and not documented as an operation of its own.
            var served: Set<String> = []
            var anonymous: [String: TestResponse] = [:]
            for route in routes where route.0 != .head {
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

    /// Runs `body` with the router's routes as (method, path), read from Hummingbird's route list, the
    /// test client, and a Redis client of its own for what the API cannot do (making an administrator).
    /// Every feature is configured: tokens, the payment webhook, and a results API key.
    private func withContractRouter(
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
    private static func concrete(_ template: String) -> String {
        template.replacingOccurrences(of: "{id}", with: "000000000000").replacingOccurrences(of: "{event_id}", with: "e1")
            .replacingOccurrences(of: "{token}", with: String(repeating: "A", count: 43))
            .replacingOccurrences(of: "{account_id}", with: "1").replacingOccurrences(of: "{user_id}", with: "1")
    }

    /// The documented path template a concrete URI is an instance of.
    private static func template(of uri: String) -> String? {
        let segments = uri.prefix { $0 != "?" }.split(separator: "/", omittingEmptySubsequences: false)
        let matches = (document["paths"]?.members ?? []).map(\.key).filter { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == segments.count
                && zip(parts, segments).allSatisfy { part, segment in part == segment || (part.hasPrefix("{") && part.hasSuffix("}")) }
        }
        return matches.count == 1 ? matches[0] : nil
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

    @Test func theWebhookExampleIsSignedAsTheDocumentSays() throws {
        // The brief's test vector: the example body, signed with the secret the description names.
        let operation = try #require(Self.document["paths"]?["/payment/webhook"]?["post"])
        let example = try #require(operation["requestBody"]?["content"]?["application/json"]?["examples"]?["deposit"]?["value"])
        func text(_ name: String) -> String? {
            switch example[name] {
            case .string(let text)?, .number(let text)?: text
            default: nil
            }
        }
        let secret = "gfdmhghif38yrf9ew0jkf32"
        let fields = try ["account_id", "amount", "transaction_id", "user_id"].map { try #require(text($0), "\($0)") }
        let signature = try #require(text("signature"))
        #expect(signature == "7b47e41efe564a062029da3367bde8844bea0fb049f894687cee5d57f2858bc8")
        #expect(sha256Hex(fields.joined() + secret) == signature)
        let description = operation["description"]?.string ?? ""
        #expect(description.contains(secret) && description.contains(signature))
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
        let changes = try #require(Self.validator.resolve("#/components/schemas/CatalogueEventChanges"))
        #expect(!Self.validator.errors(try JSONParser.parse(Array("{}".utf8)), against: changes).isEmpty, "minProperties")
        let unknownKeyword = try JSONParser.parse(Array(#"{"type":"string","uniqueItems":true}"#.utf8))
        #expect(!Self.validator.errors(.string("x"), against: unknownKeyword).isEmpty)
    }

    // MARK: Real answers

    @Test func realAnswersFitTheDocument() async throws {
        try await withContractRouter { _, client, redis in
            var seen: Set<String> = []
            /// Sends a request (a body as JSON), expects `status` (and the problem `type`, if given) and
            /// checks the answer against the operation the URI is an instance of.
            @discardableResult
            func call(
                _ status: HTTPResponse.Status, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
                headers: HTTPFields = [:], problem: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> TestResponse {
                var fields = headers
                if body != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
                let response = try await client.execute(
                    uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
                let path = try #require(Self.template(of: uri), "\(uri) is not a documented path", sourceLocation: sourceLocation)
                #expect(response.status == status, "\(method) \(uri): \(String(buffer: response.body))", sourceLocation: sourceLocation)
                if let problem {
                    #expect(response["type"] == .string("/problems/" + problem), "\(method) \(uri)", sourceLocation: sourceLocation)
                }
                seen.insert("\(method.rawValue) \(path) \(response.status.code)")
                try Self.check(response, method: method.rawValue, path: path, sourceLocation: sourceLocation)
                return response
            }
            func credentials(_ login: String, _ password: String = Self.password) -> String {
                #"{"login": "\#(login)", "password": "\#(password)"}"#
            }
            func logIn(_ login: String) async throws -> HTTPFields {
                let response = try await call(.ok, .post, "/auth", credentials(login))
                #expect(response.headers[.cacheControl] == "no-store", "a token in a body is not for caches")
                return Self.bearer(try #require(response["access_token"]?.string))
            }
            /// Registers a player through the API; their id and the path of their activation link.
            func register(_ login: String) async throws -> (id: Int, activation: String) {
                let registered = try await call(.created, .post, "/users", credentials(login))
                let url = try #require(registered["activation_url"]?.string)
                let path = try #require(url.range(of: "/users/activate/").map { String(url[$0.lowerBound...]) })
                return (try #require(Self.integer(registered["user"]?["id"])), path)
            }
            let key: HTTPFields = [.apiKeyTest: Self.resultsAPIKey]

            // Anonymous bets (the original API): placed, replayed, read, listed over two pages.
            let placed = try await call(
                .created, .post, "/bets", #"{"event_id": 42, "amount": 10.5}"#, headers: [.idempotencyKeyTest: "key-1"])
            let id = try #require(placed["id"]?.string)
            let replayed = try await call(
                .created, .post, "/bets", #"{"event_id": 42, "amount": 10.5}"#, headers: [.idempotencyKeyTest: "key-1"])
            #expect(replayed.headers[.idempotentReplayedTest] == "true")
            try await call(.created, .post, "/bets", #"{"event_id": "42", "amount": "3"}"#)
            try await call(.ok, .get, "/bets/\(id)")
            let last = try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/bets?limit=1")))
            #expect(last.headers[.linkTest] == nil)
            try await call(.ok, .get, "/bets?event_id=42&status=pending")

            // Events: reported by the results feed, reported again, closed for bets, a conflicting result.
            try await call(.ok, .get, "/events/42")
            try await call(.accepted, .put, "/events/42", #"{"status": "WIN"}"#, headers: key)
            try await call(.accepted, .put, "/events/42", #"{"status": "WIN"}"#, headers: key)
            try await call(.conflict, .put, "/events/42", #"{"status": "LOSE"}"#, headers: key, problem: "result-conflict")
            try await call(.conflict, .post, "/bets", #"{"event_id": 42, "amount": 1}"#, problem: "event-closed")
            try await call(.ok, .get, "/events/42")
            // A server with a results key takes no anonymous results, nor a wrong key.
            try await call(.unauthorized, .put, "/events/7", #"{"status": "WIN"}"#, problem: "authentication-required")
            try await call(
                .unauthorized, .put, "/events/7", #"{"status": "WIN"}"#, headers: [.apiKeyTest: "not-the-key"], problem: "invalid-api-key")

            // Refusals of anonymous requests.
            try await call(.unprocessableContent, .post, "/bets", #"{"amount": 10.123, "status": "won"}"#)
            try await call(
                .conflict, .post, "/bets", #"{"event_id": 43, "amount": 1}"#, headers: [.idempotencyKeyTest: "key-1"],
                problem: "idempotency-key-reused")
            try await call(.unprocessableContent, .post, "/bets", #"{"event_id": 43, "amount": 1, "account_id": 1}"#)
            try await call(.unprocessableContent, .put, "/events/7", #"{"result": "WIN"}"#, headers: key)
            try await call(.unprocessableContent, .get, "/bets?status=open&limit=0")
            try await call(.notFound, .get, "/bets/000000000000")
            try await call(.unprocessableContent, .get, "/events/bad!id")

            // An administrator, made in the store as `make seed` does: nobody can register as one.
            let hash = try await Passwords(cost: 10).hash(Self.password)
            guard
                case .created(let adminUser, let adminAccount, _) = try await AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
                    .register(login: "admin", passwordHash: hash, role: .admin, active: true)
            else {
                Issue.record("no administrator")
                return
            }
            let admin = try await logIn("admin")

            // Players register and follow their link once; a taken login, bad input and fields nobody may set are refused.
            let carol = try await register("carol")
            try await call(.ok, .get, carol.activation)
            try await call(.notFound, .get, carol.activation)
            try await call(.conflict, .post, "/users", credentials("CAROL"), problem: "login-taken")
            try await call(.unprocessableContent, .post, "/users", #"{"login": "al", "password": "short", "role": "admin"}"#)
            // An administrator enabled erin before she followed her link, and disabled frank.
            let erin = try await register("erin")
            try await call(.ok, .patch, "/admin/users/\(erin.id)", #"{"active": true}"#, headers: admin)
            try await call(.conflict, .get, erin.activation, problem: "already-active")
            let frank = try await register("frank")
            try await call(.ok, .patch, "/admin/users/\(frank.id)", #"{"active": false}"#, headers: admin)
            try await call(.forbidden, .get, frank.activation, problem: "account-disabled")

            // Logging in: a bearer token, or the web UI's cookie, which logging out clears.
            let asCarol = try await logIn("carol")
            let session = try await call(.ok, .post, "/auth?cookie=true", credentials("carol"))
            #expect(session.headers[.cacheControl] == nil && session["access_token"] == nil, "the token is in the cookie only")
            let cookie = try #require(session.headers[.setCookie]).prefix { $0 != ";" }
            try await call(.ok, .get, "/users/me", headers: [.cookie: String(cookie)])
            try await call(.noContent, .delete, "/auth", headers: [.cookie: String(cookie)])
            try await call(.unauthorized, .post, "/auth", credentials("carol", "not the password"), problem: "invalid-credentials")
            try await call(.unprocessableContent, .post, "/auth", #"{"login": "carol"}"#)
            let dave = try await register("dave")
            try await call(.forbidden, .post, "/auth", credentials("dave"), problem: "account-not-activated")
            for _ in 0..<3 { try await call(.unauthorized, .post, "/auth", credentials("nobody"), problem: "invalid-credentials") }
            let locked = try await call(.tooManyRequests, .post, "/auth", credentials("nobody"), problem: "too-many-login-attempts")
            // The time left of the lock, at most the whole lockout.
            #expect(locked.headers[.retryAfter].flatMap { Int($0) }.map { (1...900).contains($0) } == true)

            // The payment provider credits carol once per transaction id, signed as the document says.
            let carolAccount = try #require(
                Self.integer(Self.elements(try await call(.ok, .get, "/users/me", headers: asCarol)["accounts"]).first?["id"]))
            @discardableResult
            func deposit(
                _ status: HTTPResponse.Status, _ transaction: String, user: Int, account: Int, amount: String, problem: String? = nil,
                sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> TestResponse {
                let body = SimulatedPaymentProvider(secret: BetMakerProcesses.testPaymentSecret).webhookBody(
                    transactionID: transaction, userID: user, accountID: account, amount: amount)
                return try await call(status, .post, "/payment/webhook", body, problem: problem, sourceLocation: sourceLocation)
            }
            try await deposit(.ok, "pay-1", user: carol.id, account: carolAccount, amount: "100")
            #expect(try await deposit(.ok, "pay-1", user: carol.id, account: carolAccount, amount: "100")["replayed"] == .bool(true))
            try await deposit(.conflict, "pay-1", user: carol.id, account: carolAccount, amount: "99", problem: "transaction-conflict")
            try await deposit(
                .conflict, "pay-2", user: carol.id, account: adminAccount.id, amount: "5", problem: "account-owned-by-another-user")
            try await deposit(.conflict, "pay-3", user: 999, account: 999, amount: "5", problem: "unknown-user")
            let forged =
                #"{"transaction_id": "pay-4", "user_id": 1, "account_id": 1, "amount": 1, "signature": "\#(String(repeating: "0", count: 64))"}"#
            try await call(.badRequest, .post, "/payment/webhook", forged, problem: "invalid-signature")
            try await call(
                .unprocessableContent, .post, "/payment/webhook", #"{"transaction_id": "", "user_id": 0, "amount": "1.001", "extra": 1}"#)

            // The catalogue: administrators add, list, change and remove events; everybody lists the open ones.
            func event(_ id: String, day: Int, odds: String = "1.85") -> String {
                #"{"id": "\#(id)", "title": "Match \#(id)", "home_team": "Reds", "away_team": "Blues", "starts_at": "2030-01-0\#(day)T18:00:00Z", "odds": "\#(odds)"}"#
            }
            let created = try await call(.created, .post, "/admin/events", event("derby", day: 1), headers: admin)
            #expect(created.headers[.location] == "/events/derby")
            try await call(.created, .post, "/admin/events", event("cup", day: 2), headers: admin)
            try await call(.created, .post, "/admin/events", event("final", day: 3, odds: "2.50"), headers: admin)
            try await call(.conflict, .post, "/admin/events", event("derby", day: 1), headers: admin, problem: "event-exists")
            try await call(.conflict, .post, "/admin/events", event("42", day: 1), headers: admin, problem: "event-has-result")
            try await call(
                .unprocessableContent, .post, "/admin/events", #"{"id": "x", "odds": "0.5", "starts_at": "soon"}"#, headers: admin)
            try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/events?limit=1")))
            try await call(.unprocessableContent, .get, "/events?cursor=nonsense")
            let catalogue = try await call(.ok, .get, "/admin/events?limit=2", headers: admin)
            try await call(.ok, .get, try Self.nextPage(catalogue), headers: admin)
            try await call(.unprocessableContent, .get, "/admin/events?limit=1001", headers: admin)
            try await call(.ok, .patch, "/admin/events/derby", #"{"odds": "2.00"}"#, headers: admin)
            try await call(.unprocessableContent, .patch, "/admin/events/derby", "{}", headers: admin)
            try await call(.notFound, .patch, "/admin/events/nothing", #"{"open": false}"#, headers: admin)
            try await call(.noContent, .delete, "/admin/events/cup", headers: admin)
            try await call(.notFound, .delete, "/admin/events/cup", headers: admin)
            try await call(.unauthorized, .post, "/admin/events", event("x", day: 4), problem: "authentication-required")
            try await call(.forbidden, .post, "/admin/events", event("x", day: 4), headers: asCarol, problem: "forbidden")

            // Bets with money: the stake is debited and the odds locked in. Idempotency keys are per
            // caller, so carol's "key-1" is not the anonymous one.
            let wagerBody = #"{"event_id": "derby", "amount": "10.00"}"#
            let wager = try await call(.created, .post, "/bets", wagerBody, headers: asCarol + [.idempotencyKeyTest: "key-1"])
            #expect(wager["odds"] == .string("2.00") && wager["payout"] == .string("20.00") && wager["account_id"] != nil)
            let wagerID = try #require(wager["id"]?.string)
            let again = try await call(.created, .post, "/bets", wagerBody, headers: asCarol + [.idempotencyKeyTest: "key-1"])
            #expect(again.headers[.idempotentReplayedTest] == "true" && again["id"]?.string == wagerID)
            let poor = try await call(
                .conflict, .post, "/bets", #"{"event_id": "derby", "amount": 1000}"#, headers: asCarol, problem: "insufficient-funds")
            #expect(poor["balance"] == .string("90.00") && poor["stake"] == .string("1000.00"))
            try await call(
                .conflict, .post, "/bets", #"{"event_id": "nope", "amount": 1}"#, headers: asCarol, problem: "event-not-in-catalogue")
            try await call(
                .conflict, .post, "/bets", #"{"event_id": "derby", "amount": 1, "account_id": \#(adminAccount.id)}"#,
                headers: asCarol, problem: "no-such-account")
            try await call(.created, .post, "/bets", #"{"event_id": "final", "amount": 5}"#, headers: asCarol)
            try await call(.ok, .patch, "/admin/events/derby", #"{"open": false}"#, headers: admin)
            try await call(.conflict, .post, "/bets", wagerBody, headers: asCarol, problem: "event-not-open")
            try await call(.conflict, .delete, "/admin/events/derby", headers: admin, problem: "event-has-bets")
            // A bet with money is its owner's and the administrators'; to anybody else it does not exist.
            try await call(.ok, .get, "/bets/\(wagerID)", headers: asCarol)
            try await call(.ok, .get, "/bets/\(wagerID)", headers: admin)
            try await call(.notFound, .get, "/bets/\(wagerID)")
            let mine = try await call(.ok, .get, "/bets?limit=1", headers: asCarol)
            try await call(.ok, .get, try Self.nextPage(mine), headers: asCarol)

            // An operator reports; a player may not. The worker's settlement (the Settler) pays the won bet.
            try await call(.forbidden, .put, "/events/final", #"{"status": "WIN"}"#, headers: asCarol, problem: "forbidden")
            try await call(.accepted, .put, "/events/final", #"{"status": "WIN"}"#, headers: admin)
            try await redis.load(Scripts.all)
            let settled = try await Settler(redis: redis, keys: RedisKeys(prefix: "t:"), batchSize: 100).settle(
                eventID: "final", result: .win)
            #expect(settled.paidOut == Money(cents: 1250))
            let final = try await call(.ok, .get, "/events/final")
            #expect(final["total_paid_out"] == .string("12.50") && final["catalogue"]?["result"] == .string("WIN"))
            try await call(.conflict, .patch, "/admin/events/final", #"{"open": true}"#, headers: admin, problem: "event-has-result")

            // Dead letters: what the workers gave up on, listed over two pages; one re-driven once, one
            // that can never settle anything.
            let queue = SettlementQueue(redis: redis, keys: RedisKeys(prefix: "t:"))
            try await call(.ok, .get, "/admin/dead-letters", headers: admin)
            try await queue.deadLetter(
                StreamEntry(id: "1-0", fields: ["event_id": "final", "result": "WIN", "reported_at": "1"]),
                reason: "delivered 11 times without being settled", deliveries: 11, park: "final")
            try await queue.deadLetter(StreamEntry(id: "2-0", fields: ["event_id": "final"]), reason: "malformed entry", deliveries: 1)
            let letters = try await call(.ok, .get, "/admin/dead-letters?limit=1", headers: admin)
            let malformed = try #require(Self.elements(letters.json).first?["id"]?.string)
            let parked = try #require(
                Self.elements(try await call(.ok, .get, try Self.nextPage(letters), headers: admin).json).first?["id"]?.string)
            let retried = try await call(.accepted, .post, "/admin/dead-letters/\(parked)/retry", headers: admin)
            #expect(retried.headers[.location] == "/events/final" && retried["event_id"] == .string("final"))
            try await call(.notFound, .post, "/admin/dead-letters/\(parked)/retry", headers: admin)
            try await call(
                .conflict, .post, "/admin/dead-letters/\(malformed)/retry", headers: admin, problem: "dead-letter-not-retryable")
            try await call(.unprocessableContent, .get, "/admin/dead-letters?cursor=latest", headers: admin)
            try await call(.unauthorized, .get, "/admin/dead-letters", problem: "authentication-required")
            try await call(.forbidden, .get, "/admin/dead-letters", headers: asCarol, problem: "forbidden")
            try await call(.unauthorized, .post, "/admin/dead-letters/\(malformed)/retry", problem: "authentication-required")
            try await call(.forbidden, .post, "/admin/dead-letters/\(malformed)/retry", headers: asCarol, problem: "forbidden")

            // A player's own view: deposit, two stakes and a payout, in pages; one account; nobody else's.
            let me = try await call(.ok, .get, "/users/me?limit=2", headers: asCarol)
            #expect(Self.elements(me["transactions"]).first?["type"] == .string("payout"))
            try await call(.ok, .get, try Self.nextPage(me), headers: asCarol)
            try await call(.unprocessableContent, .get, "/users/me?cursor=42", headers: asCarol)
            try await call(.unauthorized, .get, "/users/me", problem: "authentication-required")
            let account = try await call(.ok, .get, "/accounts/\(carolAccount)?limit=2", headers: asCarol)
            #expect(account["balance"] == .string("97.50"))
            try await call(.ok, .get, try Self.nextPage(account), headers: asCarol)
            try await call(.notFound, .get, "/accounts/\(adminAccount.id)", headers: asCarol)
            try await call(.unprocessableContent, .get, "/accounts/\(carolAccount)?limit=0", headers: asCarol)
            try await call(.unauthorized, .get, "/accounts/\(carolAccount)", problem: "authentication-required")

            // Administration of users.
            try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/admin/users?limit=2", headers: admin)), headers: admin)
            try await call(.unprocessableContent, .get, "/admin/users?cursor=0", headers: admin)
            try await call(.unauthorized, .get, "/admin/users", problem: "authentication-required")
            try await call(.forbidden, .get, "/admin/users", headers: asCarol, problem: "forbidden")
            try await call(.notFound, .patch, "/admin/users/999", #"{"active": false}"#, headers: admin)
            try await call(
                .conflict, .patch, "/admin/users/\(adminUser.id)", #"{"active": false}"#, headers: admin, problem: "cannot-disable-self")
            try await call(.unprocessableContent, .patch, "/admin/users/\(carol.id)", #"{"active": "no", "role": "admin"}"#, headers: admin)

            // Every operation that checks tokens refuses a bad one (401) and a disabled user's (403)
            // before anything else; the cookie is checked like the header. A token of a user who never
            // activated (only a forged one could exist) is refused too.
            let mallory = try await register("mallory")
            try await call(.ok, .get, mallory.activation)
            let asMallory = try await logIn("mallory")
            try await call(.ok, .patch, "/admin/users/\(mallory.id)", #"{"active": false}"#, headers: admin)
            for (method, path, operation) in Self.operations {
                guard operation["security"] != nil else {
                    // The others ignore credentials: a stale cookie must not lock anybody out of them.
                    for headers in [Self.bearer("not-a-token"), asMallory] {
                        let response = try await client.execute(uri: Self.concrete(path), method: method, headers: headers)
                        #expect(
                            ![.unauthorized, .forbidden].contains(response.status), "\(method) \(path)"
                        )
                        #expect(response["type"] != .string("/problems/invalid-token"), "\(method) \(path)")
                    }
                    continue
                }
                try await call(.unauthorized, method, Self.concrete(path), headers: Self.bearer("not-a-token"), problem: "invalid-token")
                try await call(.forbidden, method, Self.concrete(path), headers: asMallory, problem: "account-disabled")
            }
            try await call(.unauthorized, .get, "/users/me", headers: [.cookie: "betmaker_token=stale"], problem: "invalid-token")
            let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(60))
            let pending = Self.bearer(try await tokens.issue(userID: dave.id).token)
            try await call(.forbidden, .get, "/users/me", headers: pending, problem: "account-not-activated")

            // Every operation with a body refuses malformed JSON (400), another media type (415) and a
            // body over the limit (413), before looking at it (an administrator may call them all).
            for (method, path, operation) in Self.operations where operation["requestBody"] != nil {
                let uri = Self.concrete(path)
                try await call(.badRequest, method, uri, #"{"status":"#, headers: admin, problem: "malformed-json")
                try await call(
                    .unsupportedMediaType, method, uri, "{}", headers: admin + [.contentType: "text/plain"],
                    problem: "unsupported-media-type")
                try await call(
                    .contentTooLarge, method, uri, "{}" + String(repeating: " ", count: 70_000), headers: admin, problem: "body-too-large")
            }

            // Operations and documentation.
            for path in ["/health/live", "/health/ready", "/metrics", "/openapi.json", "/docs", "/docs/init.js"] {
                try await call(.ok, .get, path, headers: [.requestIDTest: "contract-1"])
            }
            // A path parameter that is not validly percent-encoded, where no other 422 is possible.
            try await call(.unprocessableContent, .get, "/bets/%ZZ", problem: "validation")
            try await call(.unprocessableContent, .get, "/users/activate/%ZZ", problem: "validation")
            try await call(.unprocessableContent, .delete, "/admin/events/%ZZ", headers: admin, problem: "validation")

            // Every documented answer was seen, but for 503s (Redis down: the test below and the fault suite).
            var documented: Set<String> = []
            for (method, path, operation) in Self.operations {
                for response in operation["responses"]?.members ?? [] where response.key != "503" {
                    documented.insert("\(method.rawValue) \(path) \(response.key)")
                }
            }
            #expect(documented.subtracting(seen).isEmpty, "documented but not seen: \(documented.subtracting(seen).sorted())")
        }
    }

    @Test func answersWithoutRedisFitTheDocument() async throws {
        // Nothing listens on the port: every call that needs Redis is a 503 (storage-unavailable). A
        // valid token makes every operation need Redis: its user is read on every request.
        var settings = Settings.forTests(redis: RedisConfiguration(port: freeLoopbackPort()))
        settings.redis.connectTimeout = .milliseconds(200)
        settings.paymentWebhookSecret = nil
        let redis = RedisClient(configuration: settings.redis)
        let app = Application(router: try await buildRouter(settings: settings, redis: redis), services: [redis])
        let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(60))
        let token: HTTPFields = Self.bearer(try await tokens.issue(userID: 1).token)
        try await app.test(.router) { client in
            let credentials = #"{"login": "carol", "password": "a long password"}"#
            let event = #"{"id": "x", "title": "t", "home_team": "a", "away_team": "b", "starts_at": "2030-01-01T00:00:00Z", "odds": 2}"#
            let answers: [(HTTPRequest.Method, String, String?, HTTPFields)] = [
                (.post, "/bets", #"{"event_id": 1, "amount": 1}"#, [:]),
                (.get, "/bets", nil, [:]),
                (.get, "/bets/000000000000", nil, [:]),
                (.put, "/events/1", #"{"status": "WIN"}"#, [:]),
                (.get, "/events/1", nil, [:]),
                (.get, "/events", nil, [:]),
                (.post, "/users", credentials, [:]),
                (.get, "/users/activate/" + String(repeating: "A", count: 43), nil, [:]),
                (.post, "/auth", credentials, [:]),
                (.get, "/users/me", nil, token),
                (.get, "/accounts/1", nil, token),
                (.get, "/admin/users", nil, token),
                (.patch, "/admin/users/2", #"{"active": false}"#, token),
                (.get, "/admin/events", nil, token),
                (.post, "/admin/events", event, token),
                (.patch, "/admin/events/x", #"{"open": false}"#, token),
                (.delete, "/admin/events/x", nil, token),
                (.get, "/admin/dead-letters", nil, token),
                (.post, "/admin/dead-letters/1-0/retry", nil, token),
                (.get, "/health/ready", nil, [:]),
            ]
            var answered: Set<String> = []
            for (method, uri, body, headers) in answers {
                let response = try await client.execute(
                    uri: uri, method: method, headers: body == nil ? headers : headers + [.contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == .serviceUnavailable, "\(method) \(uri): \(String(buffer: response.body))")
                if uri != "/health/ready" { #expect(response["type"] == .string("/problems/storage-unavailable"), "\(method) \(uri)") }
                let path = try #require(Self.template(of: uri))
                answered.insert("\(method.rawValue) \(path)")
                try Self.check(response, method: method.rawValue, path: path)
            }
            // Without PAYMENT_WEBHOOK_SECRET the webhook refuses every delivery before touching Redis.
            let webhook = try await client.execute(
                uri: "/payment/webhook", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(webhook.status == .serviceUnavailable && webhook["type"] == .string("/problems/payments-not-configured"))
            try Self.check(webhook, method: "POST", path: "/payment/webhook")
            answered.insert("POST /payment/webhook")

            let documented = Set(
                Self.operations.filter { $0.operation["responses"]?["503"] != nil }.map { "\($0.method.rawValue) \($0.path)" })
            #expect(documented.subtracting(answered).isEmpty, "503 documented but not seen: \(documented.subtracting(answered).sorted())")
        }
    }

    /// The URL of the next page, from the `Link` header.
    private static func nextPage(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let link = try #require(response.headers[.linkTest], "a page with more after it has a Link header", sourceLocation: sourceLocation)
        return String(link.dropFirst().prefix { $0 != ">" })
    }

    private static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private static func integer(_ value: JSONValue?) -> Int? {
        if case .number(let text)? = value { Int(text) } else { nil }
    }

    private static func elements(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { elements } else { [] }
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
        if documented["content"] == nil {
            // An answer documented without content (204) has none.
            #expect(response.body.readableBytes == 0, "\(what) has a body", sourceLocation: sourceLocation)
            #expect(response.headers[.contentType] == nil, "\(what) has a Content-Type", sourceLocation: sourceLocation)
        } else {
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
        }

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
        for name in [
            "Location", "Link", "Idempotent-Replayed", "Retry-After", "Allow", "X-Request-Id", "WWW-Authenticate", "Set-Cookie",
            "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
        ]
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
    fileprivate static let apiKeyTest = HTTPField.Name("X-API-Key")!
}
