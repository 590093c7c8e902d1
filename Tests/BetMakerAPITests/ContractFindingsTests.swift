import BetMaker
import BetMakerRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

/// What the contract fuzzer (`make contract`, schemathesis) found, each held down here through the
/// router against a real Redis: cursors Redis cannot take, path parameters left percent-encoded,
/// methods answered 404, and the documentation page's defences.
@Suite struct ContractFindingsTests {
    // MARK: Cursors

    @Test func aLedgerCursorRedisCannotTakeIsRefusedNotA500() async throws {
        try await withAPI { client, _, redis in
            let user = try await AuthAPITests.user("carol", redis: redis, client: client)
            let headers = AuthAPITests.bearer(user.token)
            // `(0-0` is not an XREVRANGE bound (nothing is below 0-0); the others do not fit 64 bits or are not digits.
            for cursor in ["0-0", "00-000", "+1-0", "1-", "99999999999999999999-0", "1-2-3"] {
                for path in ["/users/me", "/accounts/\(user.accountID)"] {
                    let response = try await client.get("\(path)?cursor=\(cursor)", headers: headers)
                    #expect(response.status == .unprocessableContent, "\(path)?cursor=\(cursor): \(response.text)")
                    #expect(response.problemFields == ["cursor"], "\(path)?cursor=\(cursor)")
                }
            }
            // The smallest cursor above 0-0 is a valid (empty) page.
            let lowest = try await client.get("/users/me?cursor=0-1", headers: headers)
            #expect(lowest.status == .ok, "\(lowest.text)")
        }
    }

    // MARK: Path parameters

    @Test func pathParametersArePercentDecodedOnce() async throws {
        try await withAPI(configure: { $0.resultsAPIKey = nil }) { client, _, _ in
            // `:` sent encoded is the same event as `:` sent plain.
            let reported = try await client.execute(
                uri: "/events/nba%3A2026-11-22%3ALAL-BOS", method: .put, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"status": "WIN"}"#))
            #expect(reported.status == .accepted, "\(reported.text)")
            #expect(reported["event_id"] == .string("nba:2026-11-22:LAL-BOS"))
            #expect(reported.headers[.location] == "/events/nba:2026-11-22:LAL-BOS")
            let read = try await client.get("/events/nba:2026-11-22:LAL-BOS")
            #expect(read["status"] == .string("WIN"), "\(read.text)")
            let encoded = try await client.get("/events/nba%3a2026-11-22%3aLAL-BOS")
            #expect(encoded.status == .ok && encoded["status"] == .string("WIN"), "\(encoded.text)")
            // Once: `%253A` is the text `%3A`, which is not an event id.
            let twice = try await client.get("/events/a%253Ab")
            #expect(twice.status == .unprocessableContent && twice.problemFields == ["event_id"], "\(twice.text)")
            // A decoded `/` is part of the id (and refused as such), never a path separator.
            let slash = try await client.get("/events/a%2Fb")
            #expect(slash.status == .unprocessableContent && slash.problemFields == ["event_id"], "\(slash.text)")
        }
    }

    @Test(arguments: [
        ("/events/%ZZ", "event_id"), ("/events/a%", "event_id"), ("/events/a%3", "event_id"), ("/events/%C3%28", "event_id"),
        ("/bets/%GG", "id"), ("/users/activate/%", "token"), ("/accounts/%FF", "account_id"),
    ])
    func anInvalidPercentEncodingIsA422NamingTheParameter(uri: String, parameter: String) async throws {
        try await withAPI { client, _, redis in
            let user = try await AuthAPITests.user("dave", redis: redis, client: client)
            let response = try await client.get(uri, headers: AuthAPITests.bearer(user.token))
            #expect(response.status == .unprocessableContent, "\(uri): \(response.text)")
            #expect(response["type"] == .string("/problems/validation"), "\(uri)")
            #expect(response.problemFields == [parameter], "\(uri)")
        }
    }

    // MARK: Methods

    /// Every method a client may send is 405 with `Allow` where the path lacks it, OPTIONS, TRACE and
    /// QUERY included; HEAD is served wherever GET is.
    @Test func aMethodAPathDoesNotHaveIs405WithAllow() async throws {
        try await withAPI { client, _, _ in
            let methods = ["OPTIONS", "TRACE", "QUERY", "PROPFIND", "PUT", "PATCH", "DELETE"].map { HTTPRequest.Method($0)! }
            for (path, allowed) in [
                ("/bets", "GET, HEAD, POST"), ("/bets/000000000000", "GET, HEAD"), ("/events/e1", "GET, HEAD, PUT"),
                ("/users", "POST"), ("/auth", "POST, DELETE"), ("/admin/events/e1", "PATCH, DELETE"), ("/docs/init.js", "GET, HEAD"),
            ] {
                for method in methods where !allowed.contains(method.rawValue) {
                    let response = try await client.execute(uri: path, method: method)
                    #expect(response.status == .methodNotAllowed, "\(method) \(path): \(response.status)")
                    #expect(response.headers[.allow] == allowed, "\(method) \(path)")
                    #expect(response["type"] == .string("/problems/method-not-allowed"), "\(method) \(path)")
                }
            }
            // HEAD: GET's status and headers, no body; 405 where there is no GET.
            let head = try await client.execute(uri: "/health/live", method: .head)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentType] == "application/json")
            let noGet = try await client.execute(uri: "/users", method: .head)
            #expect(noGet.status == .methodNotAllowed && noGet.headers[.allow] == "POST" && noGet.body.readableBytes == 0)
            // A path nobody serves stays 404, whatever the method.
            #expect(try await client.execute(uri: "/nothing", method: .options).status == .notFound)
        }
    }

    // MARK: The documentation page

    @Test func theDocsPageRunsOnlyPinnedScriptsUnderAContentSecurityPolicy() async throws {
        try await withAPI { client, _, _ in
            let page = try await client.get("/docs")
            #expect(page.status == .ok)
            let policy = page.headers[.contentSecurityPolicy] ?? ""
            let directives = Dictionary(
                policy.split(separator: ";").map { directive in
                    let words = directive.split(separator: " ")
                    return (String(words.first ?? ""), Set(words.dropFirst().map(String.init)))
                }, uniquingKeysWith: { first, _ in first })
            #expect(directives["default-src"] == ["'none'"], "\(policy)")
            #expect(directives["script-src"] == ["'self'", "https://cdn.jsdelivr.net"], "no inline script: \(policy)")
            #expect(directives["style-src"] == ["'self'", "https://cdn.jsdelivr.net"], "\(policy)")
            #expect(directives["connect-src"] == ["'self'"], "\(policy)")
            #expect(directives["frame-ancestors"] == ["'none'"], "\(policy)")
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")

            // Every script and style sheet: from this server, or from the CDN at an exact version with
            // its SHA-384 and crossorigin; and no inline script.
            let html = page.text
            let tags = html.split(separator: "<").filter { $0.hasPrefix("script") || $0.hasPrefix("link") }
            #expect(tags.count == 3, "\(html)")
            for tag in tags {
                let source = Self.attribute(tag.hasPrefix("script") ? "src" : "href", of: tag)
                let what = String(tag.prefix { $0 != ">" })
                #expect(source != nil, "inline or sourceless: \(what)")
                guard let source, source.hasPrefix("https://") else { continue }
                #expect(source.hasPrefix("https://cdn.jsdelivr.net/npm/swagger-ui-dist@"), "\(what)")
                let version = source.split(separator: "@").last?.split(separator: "/").first ?? ""
                #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." }, "pinned: \(what)")
                let integrity = Self.attribute("integrity", of: tag) ?? ""
                #expect(integrity.hasPrefix("sha384-") && integrity.count == 71, "\(what)")
                #expect(Self.attribute("crossorigin", of: tag) == "anonymous", "\(what)")
            }
            // The start-up code comes from this server, under the same headers.
            let script = try await client.get("/docs/init.js")
            #expect(script.status == .ok && script.text.contains(#"url: "/openapi.json""#), "\(script.text)")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.contentSecurityPolicy] == policy && script.headers[.xContentTypeOptions] == "nosniff")
        }
    }

    /// The value of `name="value"` inside a tag's text.
    private static func attribute(_ name: String, of tag: Substring) -> String? {
        guard let start = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[start.upperBound...].prefix { $0 != "\"" })
    }
}
