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

extension OpenAPIContractTests {
    /// The URL of the next page, from the `Link` header.
    static func nextPage(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let link = try #require(response.headers[.link], "a page with more after it has a Link header", sourceLocation: sourceLocation)
        return String(link.dropFirst().prefix { $0 != ">" })
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func integer(_ value: JSONValue?) -> Int? {
        if case .number(let text)? = value { Int(text) } else { nil }
    }

    static func elements(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { elements } else { [] }
    }

    // MARK: Checking one answer

    /// Checks an answer against the document: the operation documents its status and media type,
    /// its body fits the schema, every required header is there, every documented header fits its
    /// schema, and every header the API sets on purpose is documented for this answer.
    static func check(
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
            if mediaType == "text/event-stream" {
                // As OpenAPI 3.1 tools read a stream: the schema is that of each event.
                let events = Self.serverSentEvents(String(buffer: response.body))
                for (index, event) in events.enumerated() {
                    let errors = Self.validator.errors(event, against: schema)
                    #expect(errors.isEmpty, "\(what) event \(index): \(errors)", sourceLocation: sourceLocation)
                }
            } else {
                let body: JSONValue
                if mediaType.hasSuffix("json") {
                    body = try JSONParser.parse(response.body.readableBytesView, maximumDepth: 64)
                } else {
                    body = .string(String(buffer: response.body))
                }
                let errors = Self.validator.errors(body, against: schema)
                #expect(errors.isEmpty, "\(what): \(errors)", sourceLocation: sourceLocation)
            }
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

    /// The events of a Server-Sent Events stream as an `EventSource` dispatches them (WHATWG HTML,
    /// 9.2.6): `event` (`message` unless named), `data` (its lines joined), and `id`, the last one seen.
    /// Comments, `retry` and blocks without data are not events.
    static func serverSentEvents(_ stream: String) -> [JSONValue] {
        var events: [JSONValue] = []
        var name: String?
        var data: [String] = []
        var lastID: String?
        for line in stream.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if !data.isEmpty {
                    var members = [
                        JSONMember(key: "event", value: .string(name ?? "message")),
                        JSONMember(key: "data", value: .string(data.joined(separator: "\n"))),
                    ]
                    if let lastID { members.append(JSONMember(key: "id", value: .string(lastID))) }
                    events.append(.object(members))
                }
                (name, data) = (nil, [])
                continue
            }
            if line.hasPrefix(":") { continue }
            let field = line.prefix { $0 != ":" }
            var value = line.dropFirst(field.count).dropFirst()
            if value.hasPrefix(" ") { value = value.dropFirst() }
            switch field {
            case "event": name = String(value)
            case "data": data.append(String(value))
            case "id": lastID = String(value)
            default: break
            }
        }
        return events
    }

    static func component(_ kind: String, _ name: String) -> JSONValue? {
        validator.resolve("#/components/\(kind)/\(name)")
    }

    /// Follows a `$ref`, if `value` is one.
    static func resolved(_ value: JSONValue?) -> JSONValue? {
        guard let value else { return nil }
        if let reference = value["$ref"]?.string { return validator.resolve(reference) }
        return value
    }
}

extension HTTPFields {
    static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var fields = lhs
        fields.append(contentsOf: rhs)
        return fields
    }
}
