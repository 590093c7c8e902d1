import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

/// `/bets` and `/events/{event_id}`: placing, listing and reading bets, reporting and reading results.
struct BetRoutes {
    let store: BetStore
    let maximumStake: Money
    let maximumBodyBytes: Int
    let anonymousBets: Bool
    /// With it, reporting results needs an operator's token or this key in `X-API-Key`; without it,
    /// anonymous callers may report events that carry no money.
    let resultsAPIKey: String?
    let betsPlaced = Counter(label: "bets_placed_total", dimensions: [("kind", "anonymous")])
    let walletBetsPlaced = Counter(label: "bets_placed_total", dimensions: [("kind", "wallet")])

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(public router: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        authenticated.post("/bets", use: placeBet)
        authenticated.get("/bets", use: listBets)
        authenticated.get("/bets/{id}", use: getBet)
        authenticated.put("/events/{event_id}", use: reportResult)
        router.get("/events/{event_id}", use: getEvent)
    }

    // MARK: Bets

    /// With a token, a bet with money from the user's account on an open catalogue event; without
    /// one, an anonymous bet on any event id, as in the original API (unless turned off).
    @Sendable func placeBet(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard context.identity != nil || anonymousBets else {
            throw Problem.authenticationRequired("Bets need an access token here: Authorization: Bearer <token> (from POST /auth).")
        }
        let body = try await Input.json(request, limit: maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(body, allowed: ["event_id", "amount", "account_id"], errors: &errors)
        let eventID = Input.eventID(fields["event_id"]).collect(into: &errors)
        let amount = Input.stake(fields["amount"], maximum: maximumStake).collect(into: &errors)
        var accountID: Int?
        if fields["account_id"] != nil {
            if context.identity == nil {
                errors.append(.init("account_id", "needs an access token: only a logged-in user's bets move money"))
            } else {
                accountID = Input.identifier(fields["account_id"], field: "account_id").collect(into: &errors)?.value
            }
        }
        guard let eventID, let amount, errors.isEmpty else { throw Problem.validation(errors) }
        let idempotencyKey = try Input.idempotencyKey(request)
        let outcome: BetStore.PlaceOutcome
        if let identity = context.identity {
            let idempotency = idempotencyKey.map {
                BetStore.IdempotencyKey(key: "user:\(identity.userID):" + $0, fingerprint: "\(eventID)\n\(amount.cents)\n\(accountID ?? 0)")
            }
            outcome = try await store.place(
                eventID: eventID, amount: amount, userID: identity.userID, accountID: accountID, idempotency: idempotency)
        } else {
            let idempotency = idempotencyKey.map {
                BetStore.IdempotencyKey(key: "anonymous:" + $0, fingerprint: "\(eventID)\n\(amount.cents)")
            }
            outcome = try await store.place(eventID: eventID, amount: amount, idempotency: idempotency)
        }
        switch outcome {
        case .placed(let bet):
            (bet.wager == nil ? betsPlaced : walletBetsPlaced).increment()
            context.logger.debug("Bet placed", metadata: ["bet_id": "\(bet.id)", "event_id": "\(eventID)", "amount": "\(amount)"])
            return .json(.created, bet.json, headers: [.location: "/bets/" + bet.id])
        case .replayed(let bet):
            return .json(.created, bet.json, headers: [.location: "/bets/" + bet.id, .idempotentReplayed: "true"])
        // Refusals that depend on what is stored are 409 (422 is for requests invalid in themselves).
        case .idempotencyKeyReused:
            throw Problem.conflict(
                "idempotency-key-reused", title: "The Idempotency-Key was used for another request",
                detail: "This Idempotency-Key was already used for a different bet within the last 24 hours; use a new key for a new bet.")
        case .eventClosed(let result):
            var problem = Problem(
                .conflict, "event-closed", title: "The event is closed for betting",
                detail: "Event \(eventID) already has its result (\(result.rawValue)); bets on it are no longer accepted.")
            problem.extensions = [("event_result", result.rawValue)]
            throw problem
        case .inactiveUser:
            throw Problem.accountDisabled()
        case .notInCatalogue:
            throw Problem.conflict(
                "event-not-in-catalogue", title: "The event is not in the catalogue",
                detail:
                    "Event \(eventID) is not in the catalogue; bets with money are taken on its events only (GET /events lists those open)."
            )
        case .notOpen:
            throw Problem.conflict(
                "event-not-open", title: "The event does not take bets", detail: "Event \(eventID) is closed for bets by the operator.")
        case .noAccount:
            throw Problem.conflict(
                "no-such-account", title: "No such account",
                detail: accountID.map { "Account \($0) is not one of your accounts." } ?? "You have no account to bet from.")
        case .insufficientFunds(let balance):
            var problem = Problem.conflict(
                "insufficient-funds", title: "Insufficient funds",
                detail: "The stake \(amount) is more than the account's balance \(balance); nothing was debited.")
            problem.extensions = [("balance", balance.description), ("stake", amount.description)]
            throw problem
        }
    }

    /// Anonymous callers list the anonymous bets; a user lists their own.
    @Sendable func listBets(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = BetStore.Filter()
        if let status = query.get("status") {
            filter.status = BetStatus(rawValue: status)
            if filter.status == nil { errors.append(.init("status", "must be pending, won or lost")) }
        }
        if let eventID = query.get("event_id") {
            if EventID.isValid(eventID) { filter.eventID = eventID } else { errors.append(.init("event_id", "must be \(EventID.rule)")) }
        }
        let page = Input.page(
            request, defaultLimit: Self.defaultLimit, maximum: Self.maximumLimit, isValidCursor: BetStore.isValidCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let scope = context.identity.map { BetStore.Scope.user($0.userID) } ?? .anonymous
        let found = try await store.list(filter, scope: scope, limit: page.limit, cursor: page.cursor)
        var json = JSONWriter(capacity: 64 + found.bets.count * 200)
        json.beginArray()
        for bet in found.bets { bet.write(to: &json) }
        json.endArray()
        var headers: HTTPFields = [:]
        if let next = found.nextCursor {
            var parameters: [(String, String)] = []
            if let status = filter.status { parameters.append(("status", status.rawValue)) }
            if let eventID = filter.eventID { parameters.append(("event_id", eventID)) }
            headers[.link] = Input.nextLink("/bets", limit: page.limit, cursor: next, parameters)
        }
        return .json(.ok, json.bytes, headers: headers)
    }

    /// Anonymous bets are public; a bet with money is shown to its owner and to administrators only
    /// (to anyone else it does not exist).
    @Sendable func getBet(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard BetIDGenerator.isWellFormed(id), let bet = try await store.bet(id: id), Self.mayRead(bet, context.identity) else {
            throw Problem.notFound("There is no bet \(id).")
        }
        return .json(.ok, bet.json)
    }

    static func mayRead(_ bet: Bet, _ identity: Identity?) -> Bool {
        guard let wager = bet.wager else { return true }
        guard let identity else { return false }
        return identity.role == .admin || identity.userID == wager.userID
    }

    // MARK: Events

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
