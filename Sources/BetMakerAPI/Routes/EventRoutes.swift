import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/events/{event_id}`: reporting an event's result and reading where it stands, and the resulting
/// workflow's transitions (assign, take, void). (`GET /events`, the catalogue, is `CatalogueRoutes`'.)
struct EventRoutes {
    let store: BetStore
    let workflow: EventWorkflowStore
    let maximumBodyBytes: Int
    /// With it, reporting results needs an operator's token or this key in `X-API-Key`; without it,
    /// anonymous callers may report events that carry no money.
    let resultsAPIKey: String?

    func register(public events: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        events.get("{event_id}", use: getEvent)
        authenticated.put("{event_id}", use: reportResult)
        authenticated.post("{event_id}/assign", use: assignEvent)
        authenticated.post("{event_id}/take", use: takeEvent)
        authenticated.post("{event_id}/void", use: voidEvent)
    }

    private func eventID(_ context: APIRequestContext) throws(Problem) -> String {
        let eventID = try context.parameter("event_id")
        guard EventID.isValid(eventID) else { throw Problem.validation("event_id", "must be \(EventID.rule)") }
        return eventID
    }

    /// Results come from an operator (an administrator's token), a results feed (`X-API-Key`) or the
    /// trader who took the event (`report_result` checks that one). A player's token is refused.
    /// Without a configured key and without a token the caller is an anonymous reporter, as in the
    /// original API, whom `report_result` refuses for an event that carries money.
    private func authorizeReporting(_ request: Request, context: APIRequestContext) throws(Problem) -> BetStore.Reporter {
        if let identity = context.identity {
            switch identity.role {
            case .admin: return .administrator
            case .trader: return .trader(identity.userID)
            case .player: throw Problem.forbidden("Reporting results needs an operator's or a trader's token.")
            }
        }
        guard let resultsAPIKey else { return .anonymous }
        guard let key = request.headers[.apiKey] else {
            throw Problem.authenticationRequired("Report results with an operator's token or the results API key in X-API-Key.")
        }
        guard constantTimeEquals(key, resultsAPIKey) else {
            var problem = Problem(
                .unauthorized, "invalid-api-key", title: "Invalid API key", detail: "X-API-Key is not the results API key.")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        return .administrator
    }

    @Sendable func reportResult(_ request: Request, context: APIRequestContext) async throws -> Response {
        let reporter = try authorizeReporting(request, context: context)
        let eventID = try eventID(context)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["status"], errors: &errors)
        let result = fields["status"].flatMap { if case .string(let text) = $0 { EventResult(rawValue: text) } else { nil } }
            .flatMap { EventResult.reportable.contains($0) ? $0 : nil }
        if result == nil { errors.append(.init("status", fields["status"] == nil ? "is required" : "must be WIN or LOSE")) }
        guard let result, errors.isEmpty else { throw Problem.validation(errors) }
        switch try await store.report(eventID: eventID, result: result, by: reporter) {
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
        case .wrongState(let state):
            throw Self.stateConflict(
                eventID, state,
                state == .void ? "a void event takes no result" : "a trader reports only an event they took (POST /events/\(eventID)/take)")
        case .notYours(let state):
            throw Self.notYourEvent(eventID, state, "report its result")
        case .notATrader:
            throw Problem.forbidden("Reporting results needs an operator's or a trader's token.")
        }
        let summary = try await store.event(id: eventID)
        return eventResponse(summary, status: .accepted)
    }

    // MARK: The workflow

    /// An administrator assigns the event to an active trader: from `open`, or re-assigning an
    /// `assigned` one. 200 with the event.
    @Sendable func assignEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let eventID = try eventID(context)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["trader_id"], errors: &errors)
        let trader = Input.identifier(fields["trader_id"], field: "trader_id").collect(into: &errors)
        guard let trader, errors.isEmpty else { throw Problem.validation(errors) }
        switch try await workflow.assign(eventID: eventID, traderID: trader.value) {
        case .changed:
            context.logger.notice("Event assigned", metadata: ["event_id": "\(eventID)", "trader_id": "\(trader.value)"])
        case .unchanged: break
        case .wrongState(let state): throw Self.stateConflict(eventID, state, "it can be assigned only while open or assigned")
        case .notATrader, .notYours:
            throw Problem.conflict(
                "not-a-trader", title: "Not an active trader",
                detail: "User \(trader.value) is not an active user with the trader role (PATCH /admin/users/\(trader.value) gives it).")
        case .holdsBet:
            throw Self.traderHoldsBet(
                eventID, .conflict, "user \(trader.value) holds a bet on it, so could not take it; assign another trader.")
        }
        return eventResponse(try await store.event(id: eventID), status: .ok)
    }

    /// A trader takes the event into work: an open one (a pool), or one assigned to them, unless they
    /// hold a bet on it. Of two traders taking one event at once, one gets 200 and the other 409.
    @Sendable func takeEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        guard identity.role == .trader else { throw Problem.forbidden("Taking an event needs a trader's token.") }
        let eventID = try eventID(context)
        switch try await workflow.take(eventID: eventID, traderID: identity.userID) {
        case .changed: context.logger.info("Event taken", metadata: ["event_id": "\(eventID)"])
        case .unchanged: break
        case .wrongState(let state): throw Self.stateConflict(eventID, state, "it can be taken only while open or assigned")
        case .notYours(let state): throw Self.notYourEvent(eventID, state, "take it")
        case .notATrader: throw Problem.forbidden("Taking an event needs a trader's token.")
        case .holdsBet: throw Self.traderHoldsBet(eventID, .forbidden, "you hold a bet on it, placed before you became a trader.")
        }
        return eventResponse(try await store.event(id: eventID), status: .ok)
    }

    /// An administrator voids the event from any state before `resulted`: no more bets or results, and
    /// the worker makes its bets void and refunds their stakes. 202 with the event, as a report.
    @Sendable func voidEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let eventID = try eventID(context)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["reason"], errors: &errors)
        let reason = Input.text(fields["reason"], field: "reason", maximumLength: 500).collect(into: &errors)
        guard let reason, errors.isEmpty else { throw Problem.validation(errors) }
        switch try await workflow.void(eventID: eventID, reason: reason) {
        case .changed: context.logger.notice("Event voided", metadata: ["event_id": "\(eventID)", "reason": "\(reason)"])
        case .unchanged: break
        case .resulted(let state):
            throw Self.stateConflict(eventID, state, "a result was reported; it cannot be voided")
        }
        return eventResponse(try await store.event(id: eventID), status: .accepted)
    }

    /// 409 `event-state-conflict`: the transition does not start from the event's state, named in
    /// `current_state`. Nothing changed.
    static func stateConflict(_ eventID: String, _ state: EventState, _ why: String) -> Problem {
        var problem = Problem.conflict(
            "event-state-conflict", title: "The event is not in a state that allows this",
            detail: "Event \(eventID) is \(state.rawValue): \(why). Nothing was changed.")
        problem.extensions = [("current_state", state.rawValue)]
        return problem
    }

    /// `trader-holds-bet`: the trader holds a bet with money on the event (placed before they got the
    /// role), so may not take it and result it; 403 to the trader taking it, 409 to the administrator
    /// assigning it. Nothing changed.
    static func traderHoldsBet(_ eventID: String, _ status: HTTPResponse.Status, _ why: String) -> Problem {
        Problem(
            status, "trader-holds-bet", title: "The trader holds a bet on the event",
            detail: "Event \(eventID): \(why) A trader may not result an event they hold a bet on; nothing was changed.")
    }

    /// 403 `not-your-event`: the event is assigned to or taken by another trader. Nothing changed.
    static func notYourEvent(_ eventID: String, _ state: EventState, _ action: String) -> Problem {
        var problem = Problem(
            .forbidden, "not-your-event", title: "The event is another trader's",
            detail: "Event \(eventID) is \(state.rawValue) and not yours: only its trader may \(action). Nothing was changed.")
        problem.extensions = [("current_state", state.rawValue)]
        return problem
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
