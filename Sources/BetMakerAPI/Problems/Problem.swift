import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: every error the API answers with is one of these, as `application/problem+json`.
public struct Problem: Error, HTTPResponseError, Sendable {
    public struct FieldError: Error, Sendable, Equatable {
        public let field: String
        public let reason: String

        public init(_ field: String, _ reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    public let status: HTTPResponse.Status
    /// A short slug; the problem's `type` is `/problems/<slug>` (described in the OpenAPI document).
    public let slug: String
    public let title: String
    public let detail: String
    public var errors: [FieldError] = []
    /// Extension members, e.g. the current result of an event in a conflict.
    public var extensions: [(String, String)] = []
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ slug: String, title: String, detail: String) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.field("type", "/problems/" + slug)
        json.field("title", title)
        json.field("status", Int(status.code))
        json.field("detail", detail)
        json.field("instance", request.uri.path)
        if !errors.isEmpty {
            json.key("errors")
            json.beginArray()
            for error in errors {
                json.beginObject()
                json.field("field", error.field)
                json.field("reason", error.reason)
                json.endObject()
            }
            json.endArray()
        }
        for (name, value) in extensions { json.field(name, value) }
        json.endObject()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}

extension Problem {
    static func validation(_ errors: [FieldError]) -> Problem {
        var problem = Problem(
            .unprocessableContent, "validation", title: "The request is not valid",
            detail: errors.map { "\($0.field): \($0.reason)" }.joined(separator: "; "))
        problem.errors = errors
        return problem
    }

    static func validation(_ field: String, _ reason: String) -> Problem {
        validation([FieldError(field, reason)])
    }

    static func malformedJSON(_ error: JSONSyntaxError) -> Problem {
        Problem(.badRequest, "malformed-json", title: "The body is not valid JSON", detail: error.description)
    }

    static func unsupportedMediaType(_ received: String?) -> Problem {
        Problem(
            .unsupportedMediaType, "unsupported-media-type", title: "The body must be JSON",
            detail: "Send the body as Content-Type: application/json (received \(received ?? "no Content-Type")).")
    }

    static func bodyTooLarge(_ limit: Int) -> Problem {
        Problem(.contentTooLarge, "body-too-large", title: "The body is too large", detail: "The body may be at most \(limit) bytes.")
    }

    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, "not-found", title: "Not found", detail: detail)
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> Problem {
        var problem = Problem(
            .methodNotAllowed, "method-not-allowed", title: "Method not allowed",
            detail: "\(method.rawValue) is not supported here; use \(allowed.map(\.rawValue).joined(separator: ", ")).")
        problem.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return problem
    }

    static func redisUnavailable() -> Problem {
        var problem = Problem(
            .serviceUnavailable, "storage-unavailable", title: "Storage is unavailable",
            detail: "The bet store cannot be reached right now; nothing was changed. Retry shortly.")
        problem.headers[.retryAfter] = "1"
        return problem
    }

    /// A Redis command was sent but never answered (a timeout, or the connection lost while it was in
    /// flight): the request may have taken effect. Telling the client "nothing was changed" here could
    /// make it pay twice; telling it how to retry safely cannot.
    static func outcomeUnknown(
        _ detail: String = "The bet store stopped answering after the request was sent, so it may have taken effect. Retrying with "
            + "the same Idempotency-Key (for a deposit, the same transaction_id) is safe and answers the first outcome; "
            + "check before repeating other requests."
    ) -> Problem {
        var problem = Problem(.serviceUnavailable, "outcome-unknown", title: "Outcome unknown", detail: detail)
        problem.headers[.retryAfter] = "1"
        return problem
    }

    static func storageFull() -> Problem {
        var problem = Problem(
            .serviceUnavailable, "storage-full", title: "Storage is full",
            detail: "The bet store is out of memory and refuses writes; nothing was changed. Retry later.")
        problem.headers[.retryAfter] = "5"
        return problem
    }

    static func conflict(_ slug: String, title: String, detail: String) -> Problem {
        Problem(.conflict, slug, title: title, detail: detail)
    }

    static func authenticationRequired(
        _ detail: String = "Send an access token: Authorization: Bearer <token> (from POST /auth)."
    )
        -> Problem
    {
        var problem = Problem(.unauthorized, "authentication-required", title: "Authentication required", detail: detail)
        problem.headers[.wwwAuthenticate] = "Bearer"
        return problem
    }

    static func invalidToken(
        _ detail: String = "The access token is malformed, expired or not signed by this API; log in again."
    )
        -> Problem
    {
        var problem = Problem(.unauthorized, "invalid-token", title: "Invalid access token", detail: detail)
        problem.headers[.wwwAuthenticate] = #"Bearer error="invalid_token""#
        return problem
    }

    static func invalidCredentials() -> Problem {
        var problem = Problem(
            .unauthorized, "invalid-credentials", title: "Wrong login or password", detail: "The login or the password is wrong.")
        problem.headers[.wwwAuthenticate] = "Bearer"
        return problem
    }

    static func accountDisabled() -> Problem {
        Problem(.forbidden, "account-disabled", title: "Account disabled", detail: "An administrator has disabled this account.")
    }

    static func accountNotActivated() -> Problem {
        Problem(
            .forbidden, "account-not-activated", title: "Account not activated",
            detail: "Follow the activation link you received when you registered first.")
    }

    static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, "forbidden", title: "Forbidden", detail: detail)
    }

    static func `internal`() -> Problem {
        Problem(.internalServerError, "internal", title: "Internal error", detail: "Something went wrong on our side; it has been logged.")
    }
}

/// The API's own header names; `package` so that its tests use the same ones.
extension HTTPField.Name {
    package static let requestID = HTTPField.Name("X-Request-Id")!
    package static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    package static let link = HTTPField.Name("Link")!
    package static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    package static let apiKey = HTTPField.Name("X-API-Key")!
}
