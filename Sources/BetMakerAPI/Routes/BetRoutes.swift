import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

/// `/bets`: placing, listing and reading bets.
struct BetRoutes {
    let store: BetStore
    let maximumStake: Money
    let maximumBodyBytes: Int
    let anonymousBets: Bool
    let betsPlaced = Counter(label: "bets_placed_total", dimensions: [("kind", "anonymous")])
    let walletBetsPlaced = Counter(label: "bets_placed_total", dimensions: [("kind", "wallet")])

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(authenticated bets: some RouterMethods<APIRequestContext>) {
        bets.post(use: placeBet)
        bets.get(use: listBets)
        bets.get("{id}", use: getBet)
    }

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
                IdempotencyKey(key: "user:\(identity.userID):" + $0, fingerprint: "\(eventID)\n\(amount.cents)\n\(accountID ?? 0)")
            }
            outcome = try await store.place(
                eventID: eventID, amount: amount, userID: identity.userID, accountID: accountID, idempotency: idempotency)
        } else {
            let idempotency = idempotencyKey.map {
                IdempotencyKey(key: "anonymous:" + $0, fingerprint: "\(eventID)\n\(amount.cents)")
            }
            outcome = try await store.place(eventID: eventID, amount: amount, idempotency: idempotency)
        }
        switch outcome {
        case .placed(let bet):
            (bet.wager == nil ? betsPlaced : walletBetsPlaced).increment()
            context.logger.debug("Bet placed", metadata: ["bet_id": "\(bet.id)", "event_id": "\(eventID)", "amount": "\(amount)"])
            return .json(.created, bet.json, headers: [.location: "/bets/\(bet.id)"])
        case .replayed(let bet):
            return .json(.created, bet.json, headers: [.location: "/bets/\(bet.id)", .idempotentReplayed: "true"])
        // Refusals that depend on what is stored are 409 (422 is for requests invalid in themselves),
        // except a reused Idempotency-Key: 422, as the IETF draft for the header says.
        case .idempotencyKeyReused:
            throw Problem.idempotencyKeyReused("bet")
        case .staff(let role):
            throw Problem.staffMayNotBet(role, "bets")
        case .bettingClosed(let reason, let startsAt):
            throw Problem.bettingClosed(eventID, reason, startsAt: startsAt)
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
            if filter.status == nil { errors.append(.init("status", "must be pending, won, lost or void")) }
        }
        if let eventID = query.get("event_id") {
            if EventID.isValid(eventID) { filter.eventID = eventID } else { errors.append(.init("event_id", "must be \(EventID.rule)")) }
        }
        let scope = context.identity.map { BetStore.Scope.user($0.userID) } ?? .anonymous
        let page = Input.page(
            request, defaultLimit: Self.defaultLimit, maximum: Self.maximumLimit,
            isValidCursor: { [store, filter] in store.isValidCursor($0, filter: filter, scope: scope) }, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
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
        guard let betID = BetID(id), let bet = try await store.bet(id: betID), Self.mayRead(bet, context.identity) else {
            throw Problem.notFound("There is no bet \(id).")
        }
        return .json(.ok, bet.json)
    }

    static func mayRead(_ bet: Bet, _ identity: Identity?) -> Bool {
        guard let wager = bet.wager else { return true }
        guard let identity else { return false }
        return identity.role == .admin || identity.userID == wager.userID
    }
}
