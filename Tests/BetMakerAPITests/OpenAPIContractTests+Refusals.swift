import BetMakerAPI
import BetMakerRuntime
import HTTPTypes
import HummingbirdTesting
import Testing

extension OpenAPIContractTests {
    /// Refusals of anonymous requests, every operation refusing a bad body before looking at it, the
    /// operations' and the documentation's routes, and malformed path parameters: part of
    /// `realAnswersFitTheDocument` (which counts every answer seen, and placed `key-1` before).
    static func refusalAndOperationsAnswers(_ send: ContractCall, admin: HTTPFields, resultsKey key: HTTPFields) async throws {
        @discardableResult
        func call(
            _ status: HTTPResponse.Status, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
            headers: HTTPFields = [:], problem: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> TestResponse {
            try await send(status, method, uri, body, headers, problem, sourceLocation)
        }

        // Refusals of anonymous requests.
        try await call(.unprocessableContent, .post, "/bets", #"{"amount": 10.123, "status": "won"}"#)
        try await call(
            .unprocessableContent, .post, "/bets", #"{"event_id": 43, "amount": 1}"#, headers: [.idempotencyKey: "key-1"],
            problem: "idempotency-key-reused")
        try await call(.unprocessableContent, .post, "/bets", #"{"event_id": 43, "amount": 1, "account_id": 1}"#)
        try await call(.unprocessableContent, .put, "/events/7", #"{"result": "WIN"}"#, headers: key)
        try await call(.unprocessableContent, .get, "/bets?status=open&limit=0")
        try await call(.notFound, .get, "/bets/000000000000")
        try await call(.unprocessableContent, .get, "/events/bad!id")

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
        for path in ["/health/live", "/openapi.json", "/docs", "/docs/init.js"] {
            try await call(.ok, .get, path, headers: [.requestID: "contract-1"])
        }
        // A path parameter that is not validly percent-encoded, where no other 422 is possible.
        try await call(.unprocessableContent, .get, "/bets/%ZZ", problem: "validation")
        try await call(.unprocessableContent, .get, "/users/activate/%ZZ", problem: "validation")
        try await call(.unprocessableContent, .delete, "/admin/events/%ZZ", headers: admin, problem: "validation")
    }

    /// `"<method> <path> <status>"` of every answer the document gives, but for 503s.
    static func documentedAnswers() -> Set<String> {
        var documented: Set<String> = []
        for (method, path, operation) in operations {
            for response in operation["responses"]?.members ?? [] where response.key != "503" {
                documented.insert("\(method.rawValue) \(path) \(response.key)")
            }
        }
        return documented
    }
}
