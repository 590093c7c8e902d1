import BetMaker
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading request bodies and parameters, with the checks every endpoint shares.
enum Input {
    /// The body as JSON: checks the content type (415), the size (413, before and while reading) and
    /// the syntax (400).
    static func json(_ request: Request, limit: Int) async throws -> JSONValue {
        let contentType = request.headers[.contentType]
        guard let contentType, isJSON(contentType) else { throw Problem.unsupportedMediaType(contentType) }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw Problem.bodyTooLarge(limit)
        }
        let body = try await request.body.collect(upTo: limit)
        do {
            return try JSONParser.parse(body.readableBytesView)
        } catch {
            throw Problem.malformedJSON(error)
        }
    }

    /// `application/json` or any `application/*+json`, with or without parameters, in any case.
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }.map { $0 | 0x20 }
        return mediaType.elementsEqual("application/json".utf8)
            || (mediaType.starts(with: "application/".utf8) && mediaType.reversed().starts(with: "nosj+".utf8))
    }

    /// The members of a JSON object body; unknown and repeated fields are added to `errors`, so a
    /// client can never set something it is not meant to (`status`, `id`) or send an ambiguous body,
    /// and hears about every problem of its request at once.
    static func object(
        _ value: JSONValue, allowed: [String], errors: inout [Problem.FieldError]
    ) throws(Problem) -> [String: JSONValue] {
        guard case .object(let members) = value else {
            throw Problem.validation("body", "must be a JSON object, not \(value.typeName)")
        }
        var fields: [String: JSONValue] = [:]
        for member in members {
            if !allowed.contains(member.key) {
                errors.append(.init(member.key, "is not a known field (known: \(allowed.joined(separator: ", ")))"))
            } else if fields[member.key] != nil {
                errors.append(.init(member.key, "appears more than once"))
            } else {
                fields[member.key] = member.value
            }
        }
        return fields
    }

    /// An event id from a body: a string in the event-id alphabet, or a non-negative integer number
    /// (kept as its decimal text).
    static func eventID(_ value: JSONValue?, field: String = "event_id") -> Result<String, Problem.FieldError> {
        switch value {
        case nil:
            return .failure(.init(field, "is required"))
        case .string(let text):
            return EventID.isValid(text) ? .success(text) : .failure(.init(field, "must be \(EventID.rule)"))
        case .number(let text):
            let isInteger = text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            return isInteger && EventID.isValid(text)
                ? .success(text) : .failure(.init(field, "must be a non-negative whole number or a string"))
        case .some(let other):
            return .failure(.init(field, "must be a string or a non-negative whole number, not \(other.typeName)"))
        }
    }

    /// The exact text of a JSON number, or a string: how amounts, odds and ids are read, so that no
    /// number ever passes through a binary float. `expected` names the accepted forms for the error.
    static func numberText(_ value: JSONValue?, field: String, expected: String) -> Result<String, Problem.FieldError> {
        switch value {
        case nil: .failure(.init(field, "is required"))
        case .number(let text), .string(let text): .success(text)
        case .some(let other): .failure(.init(field, "must be \(expected), not \(other.typeName)"))
        }
    }

    /// An amount from a body: a JSON number or a decimal string, read from its exact text.
    static func stake(_ value: JSONValue?, maximum: Money, field: String = "amount") -> Result<Money, Problem.FieldError> {
        numberText(value, field: field, expected: "a number or a decimal string").flatMap { text in
            do throws(Money.ParseError) {
                return .success(try Money.stake(parsing: Substring(text), maximum: maximum))
            } catch {
                return .failure(.init(field, error.description))
            }
        }
    }

    /// A string of 1 to `maximumLength` characters without control characters.
    static func text(_ value: JSONValue?, field: String, maximumLength: Int) -> Result<String, Problem.FieldError> {
        guard let value else { return .failure(.init(field, "is required")) }
        guard case .string(let text) = value else { return .failure(.init(field, "must be a string, not \(value.typeName)")) }
        guard (1...maximumLength).contains(text.count), !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            return .failure(.init(field, "must be 1 to \(maximumLength) characters without control characters"))
        }
        return .success(text)
    }

    /// A positive whole number, as a JSON number or a string of digits; with the text as sent, which
    /// is what a signature covers.
    static func identifier(_ value: JSONValue?, field: String) -> Result<(value: Int, text: String), Problem.FieldError> {
        numberText(value, field: field, expected: "a positive whole number").flatMap { text in
            let isDigits = text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard text.utf8.count <= 15, isDigits, let number = Int(text), number > 0 else {
                return .failure(.init(field, "must be a positive whole number"))
            }
            return .success((number, text))
        }
    }

    static func boolean(_ value: JSONValue?, field: String) -> Result<Bool, Problem.FieldError> {
        guard case .bool(let flag)? = value else {
            return .failure(.init(field, value == nil ? "is required" : "must be true or false, not \(value!.typeName)"))
        }
        return .success(flag)
    }

    /// `?limit=` (1 to `maximum`, `defaultLimit` when absent) and `?cursor=`, checked by `isValidCursor`.
    static func page(
        _ request: Request, defaultLimit: Int = 100, maximum: Int = 1000, isValidCursor: (String) -> Bool,
        errors: inout [Problem.FieldError]
    ) -> (limit: Int, cursor: String?) {
        let query = request.uri.queryParameters
        var limit = defaultLimit
        if let text = query.get("limit") {
            if let number = Int(decimalDigits: text), (1...maximum).contains(number) {
                limit = number
            } else {
                errors.append(.init("limit", "must be a whole number from 1 to \(maximum)"))
            }
        }
        let cursor = query.get("cursor")
        if let cursor, !isValidCursor(cursor) {
            errors.append(.init("cursor", "is not a cursor from this listing; follow the Link header of the previous page"))
        }
        return (limit, cursor)
    }

    /// The `Link` header of a listing's next page: the path with its query, and the cursor.
    static func nextLink(_ path: String, limit: Int, cursor: String, _ parameters: [(String, String)] = []) -> String {
        var link = "\(path)?limit=\(limit)&cursor=\(cursor)"
        for (name, value) in parameters { link += "&\(name)=\(value)" }
        return "<\(link)>; rel=\"next\""
    }

    /// The Idempotency-Key header, if sent: 1 to 255 visible ASCII characters.
    static func idempotencyKey(_ request: Request) throws(Problem) -> String? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw Problem.validation("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
        }
        return key
    }
}

extension Result {
    /// Collects the failure into `errors` and returns the value, if any.
    func collect(into errors: inout [Problem.FieldError]) -> Success? where Failure == Problem.FieldError {
        switch self {
        case .success(let value): return value
        case .failure(let error):
            errors.append(error)
            return nil
        }
    }
}
