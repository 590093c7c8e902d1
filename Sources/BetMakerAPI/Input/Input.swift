import BetMaker
import BetMakerRuntime
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
            guard let digits = wholeNumber(text), EventID.isValid(digits) else {
                return .failure(.init(field, "must be a non-negative whole number or a string"))
            }
            return .success(digits)
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

    /// A string of 1 to `maximumLength` characters without control characters. Characters are
    /// Unicode code points, as JSON Schema's `maxLength` counts them, so the document can state the
    /// limit exactly (`"e\u{301}"` is two).
    static func text(_ value: JSONValue?, field: String, maximumLength: Int) -> Result<String, Problem.FieldError> {
        guard let value else { return .failure(.init(field, "is required")) }
        guard case .string(let text) = value else { return .failure(.init(field, "must be a string, not \(value.typeName)")) }
        guard (1...maximumLength).contains(text.unicodeScalars.count),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            return .failure(.init(field, "must be 1 to \(maximumLength) characters without control characters"))
        }
        return .success(text)
    }

    /// A positive whole number, as a JSON number (`3`, or `3.0`: JSON Schema's integers include it)
    /// or a string of digits without leading zeros; with the text as sent, which is what a signature
    /// covers. (The webhook's signature joins values without separators, so a string `03` would sign
    /// like `0` + `3`: see docs/ARCHITECTURE.md.)
    static func identifier(_ value: JSONValue?, field: String) -> Result<(value: Int, text: String), Problem.FieldError> {
        let digits: String?
        switch value {
        case .number(let text)?: digits = wholeNumber(text)
        case .string(let text)?: digits = text
        default: digits = nil
        }
        return numberText(value, field: field, expected: "a positive whole number").flatMap { text in
            guard let digits, digits.utf8.count <= 15, digits.utf8.first != UInt8(ascii: "0"),
                digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let number = Int(digits), number > 0
            else {
                return .failure(.init(field, "must be a positive whole number without leading zeros"))
            }
            return .success((number, text))
        }
    }

    /// The digits of a JSON number's text that is a whole number written plainly: `42`, or `42.0`
    /// (JSON Schema counts 42.0 as the integer 42, and so do generators). Nil otherwise.
    static func wholeNumber(_ text: String) -> String? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard let whole = parts.first, !whole.isEmpty, whole.utf8.allSatisfy(isDigit) else { return nil }
        if parts.count == 2 { guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 == UInt8(ascii: "0") }) else { return nil } }
        return String(whole)
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

    /// The same for a listing that takes no other query parameters: 422 naming what is wrong.
    static func page(
        _ request: Request, defaultLimit: Int = 100, maximum: Int = 1000, isValidCursor: (String) -> Bool
    ) throws(Problem) -> (limit: Int, cursor: String?) {
        var errors: [Problem.FieldError] = []
        let page = page(request, defaultLimit: defaultLimit, maximum: maximum, isValidCursor: isValidCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return page
    }

    /// `text` with every `%XX` replaced by its byte, once; nil when an escape is not two hexadecimal
    /// digits or the bytes are not UTF-8. (`+` is a plus sign in a path, not a space.)
    static func percentDecoded(_ text: some StringProtocol) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// An email address from a body: blanks around it are dropped, then it must be an
    /// `EmailAddress` (stored lower-cased). The text as sent is at most 254 characters, blanks
    /// included, which is what the document's `maxLength` can state.
    static func email(_ value: JSONValue?, field: String = "email") -> Result<EmailAddress, Problem.FieldError> {
        guard let value else { return .failure(.init(field, "is required")) }
        guard case .string(let text) = value else { return .failure(.init(field, "must be a string, not \(value.typeName)")) }
        guard text.unicodeScalars.count <= EmailAddress.maximumLength, let address = EmailAddress(normalizing: text.trimmingSpaces)
        else {
            return .failure(.init(field, "must be \(EmailAddress.rule)"))
        }
        return .success(address)
    }

    /// `text` with every byte but RFC 3986's unreserved characters percent-encoded: for values put
    /// into a link's query (an address may hold `&`, `+`, `%` or `#`).
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if EmailAddress.isLetterOrDigit(byte) || "-._~".utf8.contains(byte) {
                bytes.append(byte)
            } else {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
