import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// Administration: users and the event catalogue (`/admin/...`, administrators only), and the public
/// list of open catalogue events (`GET /events`).
struct AdminRoutes {
    let accounts: AccountStore
    let catalogue: CatalogueStore
    let maximumBodyBytes: Int

    func register(public router: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        router.get("/events", use: listOpenEvents)
        authenticated.get("/admin/users", use: listUsers)
        authenticated.patch("/admin/users/{user_id}", use: updateUser)
        authenticated.get("/admin/events", use: listAllEvents)
        authenticated.post("/admin/events", use: createEvent)
        authenticated.patch("/admin/events/{event_id}", use: updateEvent)
        authenticated.delete("/admin/events/{event_id}", use: deleteEvent)
    }

    // MARK: Users

    @Sendable func listUsers(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        var errors: [Problem.FieldError] = []
        let page = Input.page(request, isValidCursor: { Int(decimalDigits: $0).map { $0 > 0 } ?? false }, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let (users, next) = try await accounts.users(limit: page.limit, after: page.cursor.flatMap { Int(decimalDigits: $0) })
        var headers: HTTPFields = [:]
        if let next { headers[.link] = Input.nextLink("/admin/users", limit: page.limit, cursor: String(next)) }
        return .json(headers: headers, capacity: 64 + users.count * 250) { json in
            json.beginArray()
            for (user, userAccounts) in users { Self.write(user, userAccounts, to: &json) }
            json.endArray()
        }
    }

    /// A user as administrators see them: the user's fields and their accounts.
    static func write(_ user: User, _ accounts: [Account], to json: inout JSONWriter) {
        json.beginObject()
        json.key("user")
        user.write(to: &json)
        json.key("accounts")
        json.beginArray()
        for account in accounts { account.write(to: &json) }
        json.endArray()
        json.endObject()
    }

    @Sendable func updateUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let text = try context.parameter("user_id")
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["active"], errors: &errors)
        let active = Input.boolean(fields["active"], field: "active").collect(into: &errors)
        guard let active, errors.isEmpty else { throw Problem.validation(errors) }
        guard let userID = Int(decimalDigits: text), userID > 0 else { throw Problem.notFound("There is no user \(text).") }
        if userID == admin.userID && !active {
            throw Problem.conflict(
                "cannot-disable-self", title: "You cannot disable yourself",
                detail: "Another administrator must do that, so the service always keeps one.")
        }
        guard let user = try await accounts.setActive(userID: userID, active) else { throw Problem.notFound("There is no user \(text).") }
        context.logger.notice("User \(active ? "enabled" : "disabled")", metadata: ["target_user_id": "\(userID)"])
        let userAccounts = try await accounts.accounts(userID: userID)
        return .json { Self.write(user, userAccounts, to: &$0) }
    }

    // MARK: The event catalogue

    @Sendable func listOpenEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await listEvents(request, openOnly: true, path: "/events")
    }

    @Sendable func listAllEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        return try await listEvents(request, openOnly: false, path: "/admin/events")
    }

    private func listEvents(_ request: Request, openOnly: Bool, path: String) async throws -> Response {
        var errors: [Problem.FieldError] = []
        let page = Input.page(request, isValidCursor: CatalogueEvent.isValidCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let (events, next) = try await catalogue.list(openOnly: openOnly, limit: page.limit, after: page.cursor)
        var headers: HTTPFields = [:]
        if let next { headers[.link] = Input.nextLink(path, limit: page.limit, cursor: next) }
        return .json(headers: headers, capacity: 64 + events.count * 250) { json in
            json.beginArray()
            for event in events { event.write(to: &json) }
            json.endArray()
        }
    }

    static let eventFields = ["id", "title", "home_team", "away_team", "starts_at", "odds", "open"]

    @Sendable func createEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: Self.eventFields, errors: &errors)
        let id = Input.eventID(fields["id"], field: "id").collect(into: &errors)
        let title = Input.text(fields["title"], field: "title", maximumLength: 200).collect(into: &errors)
        let home = Input.text(fields["home_team"], field: "home_team", maximumLength: 100).collect(into: &errors)
        let away = Input.text(fields["away_team"], field: "away_team", maximumLength: 100).collect(into: &errors)
        let startsAt = Self.startTime(fields["starts_at"]).collect(into: &errors)
        let odds = Self.odds(fields["odds"]).collect(into: &errors)
        let open = fields["open"] == nil ? true : Input.boolean(fields["open"], field: "open").collect(into: &errors)
        guard let id, let title, let home, let away, let startsAt, let odds, let open, errors.isEmpty else {
            throw Problem.validation(errors)
        }
        let event = CatalogueEvent(id: id, title: title, homeTeam: home, awayTeam: away, startsAt: startsAt, odds: odds, isOpen: open)
        switch try await catalogue.create(event) {
        case .created(let event):
            context.logger.notice("Catalogue event created", metadata: ["event_id": "\(id)"])
            return .json(.created, headers: [.location: "/events/" + id]) { event.write(to: &$0) }
        case .exists:
            throw Problem.conflict(
                "event-exists", title: "The event is in the catalogue already", detail: "Change it with PATCH /admin/events/\(id).")
        case .closed(let result):
            throw Problem.conflict(
                "event-has-result", title: "The event has its result", detail: "Event \(id) was reported as \(result.rawValue) already.")
        }
    }

    @Sendable func updateEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let id = try context.parameter("event_id")
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(
            try await Input.json(request, limit: maximumBodyBytes), allowed: Array(Self.eventFields.dropFirst()), errors: &errors)
        var changes = CatalogueStore.Changes()
        if fields["title"] != nil { changes.title = Input.text(fields["title"], field: "title", maximumLength: 200).collect(into: &errors) }
        if fields["home_team"] != nil {
            changes.homeTeam = Input.text(fields["home_team"], field: "home_team", maximumLength: 100).collect(into: &errors)
        }
        if fields["away_team"] != nil {
            changes.awayTeam = Input.text(fields["away_team"], field: "away_team", maximumLength: 100).collect(into: &errors)
        }
        if fields["starts_at"] != nil { changes.startsAt = Self.startTime(fields["starts_at"]).collect(into: &errors) }
        if fields["odds"] != nil { changes.odds = Self.odds(fields["odds"]).collect(into: &errors) }
        if fields["open"] != nil { changes.isOpen = Input.boolean(fields["open"], field: "open").collect(into: &errors) }
        if fields.isEmpty, errors.isEmpty {
            errors.append(.init("body", "must change at least one of \(Self.eventFields.dropFirst().joined(separator: ", "))"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        guard EventID.isValid(id) else { throw Problem.notFound("There is no catalogue event \(id).") }
        switch try await catalogue.update(id: id, changes) {
        case .updated(let event):
            context.logger.notice("Catalogue event changed", metadata: ["event_id": "\(id)"])
            return .json { event.write(to: &$0) }
        case .missing:
            throw Problem.notFound("There is no catalogue event \(id).")
        case .closed(let result):
            throw Problem.conflict(
                "event-has-result", title: "The event has its result",
                detail: "Event \(id) was reported as \(result.rawValue); it cannot be opened for bets again.")
        }
    }

    @Sendable func deleteEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let id = try context.parameter("event_id")
        guard EventID.isValid(id) else { throw Problem.notFound("There is no catalogue event \(id).") }
        switch try await catalogue.delete(id: id) {
        case .deleted:
            context.logger.notice("Catalogue event deleted", metadata: ["event_id": "\(id)"])
            return Response(status: .noContent)
        case .missing:
            throw Problem.notFound("There is no catalogue event \(id).")
        case .hasBets(let count):
            throw Problem.conflict(
                "event-has-bets", title: "The event has bets",
                detail: "Event \(id) has \(count) bet(s); close it for new bets with PATCH {\"open\": false} instead.")
        }
    }

    /// An RFC 3339 date-time written with a year from 1971 to 2285: whatever its offset, it then falls
    /// within what the catalogue's index stores (0 to `CatalogueEvent.latestStart` ms), and the
    /// document can say so with a pattern.
    static func startTime(_ value: JSONValue?) -> Result<Int64, Problem.FieldError> {
        guard case .string(let text)? = value, let year = Int(decimalDigits: text.prefix(4)), (1971...2285).contains(year),
            let milliseconds = Timestamp.parseRFC3339(text), (0...CatalogueEvent.latestStart).contains(milliseconds)
        else {
            return .failure(
                .init(
                    "starts_at",
                    value == nil
                        ? "is required" : "must be an RFC 3339 date-time with a year from 1971 to 2285, such as 2026-12-01T18:30:00Z"))
        }
        return .success(milliseconds)
    }

    static func odds(_ value: JSONValue?) -> Result<Odds, Problem.FieldError> {
        Input.numberText(value, field: "odds", expected: "a number or a decimal string").flatMap { text in
            Odds(parsing: Substring(text)).map { .success($0) } ?? .failure(.init("odds", Odds.rule))
        }
    }
}
