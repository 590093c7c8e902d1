import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/events/{event_id}`: reporting an event's result and reading where it stands. (`GET /events`, the
/// open catalogue, is `CatalogueRoutes`'.)
struct EventRoutes {
    let store: BetStore
    let maximumBodyBytes: Int
    /// With it, reporting results needs an operator's token or this key in `X-API-Key`; without it,
    /// anonymous callers may report events that carry no money.
    let resultsAPIKey: String?

    func register(public events: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        events.get("{event_id}", use: getEvent)
        authenticated.put("{event_id}", use: reportResult)
    }

    private func eventID(_ context: APIRequestContext) throws(Problem) -> String {
        let eventID = try context.parameter("event_id")
        guard EventID.isValid(eventID) else { throw Problem.validation("event_id", "must be \(EventID.rule)") }
        return eventID
    }

    /// Results come from an operator (an administrator's token) or a results feed (`X-API-Key`). A
    /// player's token is refused. Without a configured key and without a token the caller is an
    /// anonymous reporter, as in the original API: returns true, and `report_result` refuses such a
    /// reporter for an event that carries money.
    private func authorizeReporting(_ request: Request, context: APIRequestContext) throws(Problem) -> Bool {
        if let identity = context.identity {
            guard identity.role == .admin else { throw Problem.forbidden("Reporting results needs an operator's token.") }
            return false
        }
        guard let resultsAPIKey else { return true }
        guard let key = request.headers[.apiKey] else {
            throw Problem.authenticationRequired("Report results with an operator's token or the results API key in X-API-Key.")
        }
        guard constantTimeEquals(key, resultsAPIKey) else {
            var problem = Problem(
                .unauthorized, "invalid-api-key", title: "Invalid API key", detail: "X-API-Key is not the results API key.")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        return false
    }

    @Sendable func reportResult(_ request: Request, context: APIRequestContext) async throws -> Response {
        let anonymous = try authorizeReporting(request, context: context)
        let eventID = try eventID(context)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["status"], errors: &errors)
        let result = fields["status"].flatMap { if case .string(let text) = $0 { EventResult(rawValue: text) } else { nil } }
        if result == nil { errors.append(.init("status", fields["status"] == nil ? "is required" : "must be WIN or LOSE")) }
        guard let result, errors.isEmpty else { throw Problem.validation(errors) }
        switch try await store.report(eventID: eventID, result: result, anonymous: anonymous) {
        case .reported:
            context.logger.info("Result reported", metadata: ["event_id": "\(eventID)", "result": "\(result.rawValue)"])
        case .unchanged:
            break
        case .conflict(let current):
            var problem = Problem(
                .conflict, "result-conflict", title: "The event already has another result",
                detail: "Event \(eventID) was reported as \(current.rawValue); a result cannot be changed.")
            problem.extensions = [("current_result", current.rawValue)]
            throw problem
        case .needsOperator:
            throw Problem.authenticationRequired(
                "Event \(eventID) carries money (it is in the catalogue): its result needs an operator's token "
                    + "(Authorization: Bearer <token>) or the results API key in X-API-Key. Nothing was changed.")
        }
        let summary = try await store.event(id: eventID)
        return eventResponse(summary, status: .accepted)
    }

    @Sendable func getEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        eventResponse(try await store.event(id: try eventID(context)), status: .ok)
    }

    private func eventResponse(_ summary: EventSummary, status: HTTPResponse.Status) -> Response {
        var headers: HTTPFields = [:]
        if status == .accepted { headers[.location] = "/events/" + summary.id }
        return .json(status, headers: headers, capacity: 512) { summary.write(to: &$0) }
    }
}
