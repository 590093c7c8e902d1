import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// The event catalogue: the events open for bets with money (`GET /events`, public, each saying whether
/// it takes bets now: one that started or that a trader took does not; with `status=` the
/// catalogue events in a workflow state), a trader's own events (`GET /traders/me/events`), and its
/// administration (`/admin/events`, administrators only: the `/admin` group's `AdministratorsOnly`).
struct CatalogueRoutes {
    let catalogue: CatalogueStore
    let maximumBodyBytes: Int

    /// `traders` carries `AuthenticationMiddleware`; `GET /events` looks at no token, so a stale cookie
    /// never stands in the way of the public listing.
    func register(
        public events: some RouterMethods<APIRequestContext>, traders: some RouterMethods<APIRequestContext>,
        admin: some RouterMethods<APIRequestContext>
    ) {
        events.get(use: listOpenEvents)
        traders.get("me/events", use: listMyEvents)
        admin.get(use: listAllEvents)
        admin.post(use: createEvent)
        admin.patch("{event_id}", use: updateEvent)
        admin.delete("{event_id}", use: deleteEvent)
    }

    /// Without `status`, the events the operator opened for bets that have no result, by start time;
    /// those that started or that a trader took show as closed for bets (`open` false, `closed_reason`),
    /// so a player sees why a match they followed takes no more bets. With `status`, the catalogue
    /// events in that workflow state, taking bets or not (the operators' view).
    @Sendable func listOpenEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        var errors: [Problem.FieldError] = []
        let filter = CatalogueStore.Filter(state: Self.state(request, errors: &errors))
        let page = Input.page(request, isValidCursor: CatalogueEvent.isValidCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return try await listEvents(openOnly: filter.isEmpty, filter: filter, page: page, path: "/events")
    }

    /// A trader's "my events": the catalogue events assigned to or taken by the caller, in any state
    /// or in the one `status` names.
    @Sendable func listMyEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        var errors: [Problem.FieldError] = []
        let filter = CatalogueStore.Filter(state: Self.state(request, errors: &errors), traderID: identity.userID)
        let page = Input.page(request, isValidCursor: CatalogueEvent.isValidCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return try await listEvents(openOnly: false, filter: filter, page: page, path: "/traders/me/events")
    }

    @Sendable func listAllEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try Input.page(request, isValidCursor: CatalogueEvent.isValidCursor)
        return try await listEvents(openOnly: false, page: page, path: "/admin/events")
    }

    /// `?status=`, a workflow state.
    private static func state(_ request: Request, errors: inout [Problem.FieldError]) -> EventState? {
        guard let status = request.uri.queryParameters.get("status") else { return nil }
        guard let state = EventState(rawValue: String(status)) else {
            errors.append(.init("status", "must be one of \(EventState.allCases.map(\.rawValue).joined(separator: ", "))"))
            return nil
        }
        return state
    }

    private func listEvents(
        openOnly: Bool, filter: CatalogueStore.Filter = .init(), page: (limit: Int, cursor: String?), path: String
    ) async throws -> Response {
        let (events, next) = try await catalogue.list(openOnly: openOnly, filter: filter, limit: page.limit, after: page.cursor)
        var headers: HTTPFields = [:]
        if let next {
            headers[.link] = Input.nextLink(path, limit: page.limit, cursor: next, filter.state.map { [("status", $0.rawValue)] } ?? [])
        }
        let now = currentMilliseconds()
        return .json(headers: headers, capacity: 64 + events.count * 250) { json in
            json.beginArray()
            for event in events { event.write(to: &json, now: now) }
            json.endArray()
        }
    }

    static let eventFields = ["id", "title", "home_team", "away_team", "starts_at", "odds", "open"]

    @Sendable func createEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
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
