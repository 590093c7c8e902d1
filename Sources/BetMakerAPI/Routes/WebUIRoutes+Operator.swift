import BetMaker
import BetMakerRuntime
import Hummingbird

/// The operator's and the trader's pages: administrators only, except the trader's own events.
extension WebUIRoutes {
    /// How many traders the assign form offers (the traders index, by id); a bookmaker has a few.
    static let assignableTraders = 500

    @Sendable func operatorEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: CatalogueEvent.isValidCursor)
        let (events, next) = try await catalogue.list(openOnly: false, limit: Self.pageSize, after: cursor)
        // Traders by login: the index for the assign form, and the users an event names that are not
        // (or no longer) in it, read in one round trip.
        let traders = try await accounts.traders(limit: Self.assignableTraders, after: nil).traders
        var logins = Dictionary(traders.map { ($0.id, $0.login) }, uniquingKeysWith: { first, _ in first })
        for (id, user) in try await accounts.users(ids: events.compactMap(\.traderID).filter { logins[$0] == nil }) {
            logins[id] = user.login
        }
        let active = traders.filter { $0.status == .active }
        var values: [String: Any] = [
            "events": events.map { event in
                var fields = Self.fields(event, logins: logins)
                fields["traders"] = active.map {
                    ["id": String($0.id), "login": $0.login, "selected": $0.id == event.traderID] as [String: Any]
                }
                return fields
            },
            "hasEvents": !events.isEmpty, "hasTraders": !active.isEmpty,
        ]
        if let next { values["next"] = "/ui/operator/events?cursor=\(next)" }
        return try Self.page("operator-events", title: "Catalogue", identity: context.identity, values, live: "events")
    }

    /// The users, to enable or disable and to give or take the trader role (the API's `PATCH
    /// /admin/users/{id}` does it, with its rules).
    @Sendable func operatorUsers(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: { Int(decimalDigits: $0) != nil }).flatMap { Int(decimalDigits: $0) }
        let (users, next) = try await accounts.users(limit: Self.pageSize, after: cursor)
        var values: [String: Any] = [
            "users": users.map { user, accounts -> [String: Any] in
                [
                    "id": String(user.id), "login": user.login, "role": user.role.rawValue, "status": user.status.rawValue,
                    "balance": accounts.first?.balance.description ?? "", "active": user.status == .active,
                    "isPlayer": user.role == .player, "isTrader": user.role == .trader,
                ]
            }
        ]
        if let next { values["next"] = "/ui/operator/users?cursor=\(next)" }
        return try Self.page("operator-users", title: "Users", identity: context.identity, values)
    }

    /// What the settlement workers gave up on, newest first, to re-drive once the cause is repaired (the
    /// API's `POST /admin/dead-letters/{id}/retry`).
    @Sendable func operatorDeadLetters(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: DeadLetter.ID.isValid)
        let (letters, next) = try await deadLetters.deadLetters(limit: Self.pageSize, before: cursor)
        var values: [String: Any] = [
            "letters": letters.map { letter -> [String: Any] in
                var fields: [String: Any] = [
                    "id": letter.id, "entryID": letter.entryID,
                    "reason": letter.reason, "deliveries": String(letter.deliveries),
                    "fields": letter.fields.map { $0.name + "=" + $0.value }.joined(separator: " "),
                ]
                if let at = letter.deadLetteredAt { fields["deadLetteredAt"] = Self.time(at, .absolute) }
                return fields
            },
            "hasLetters": !letters.isEmpty,
        ]
        if let next { values["next"] = "/ui/operator/dead-letters?cursor=\(next)" }
        return try Self.page("operator-dead-letters", title: "Dead letters", identity: context.identity, values)
    }

    /// The email contacts by address: play counts, the linked user, the ESP's sync state; erasing one is
    /// the API's `DELETE /admin/contacts/{email}`.
    @Sendable func operatorContacts(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: { EmailAddress(normalizing: $0)?.value == $0 })
        let (found, next) = try await contacts.contacts(limit: Self.pageSize, after: cursor)
        let users = try await accounts.users(ids: found.compactMap(\.userID))
        var values: [String: Any] = [
            "contacts": found.map { contact -> [String: Any] in
                var fields: [String: Any] = [
                    "email": contact.email, "plays": String(contact.plays),
                    "userLogin": contact.userID.map { users[$0]?.login ?? "user \($0)" } ?? "",
                    "inESP": contact.inESP.map { $0 ? "yes" : "no" } ?? "unknown", "sync": contact.sync.rawValue,
                    "attempts": String(contact.attempts), "lastPlayedAt": Self.time(contact.lastPlayedAt, .relative),
                ]
                if let error = contact.lastError, !error.isEmpty { fields["lastError"] = error }
                if let at = contact.syncedAt { fields["syncedAt"] = Self.time(at, .absolute) }
                return fields
            },
            "hasContacts": !found.isEmpty,
        ]
        if let next { values["next"] = "/ui/operator/contacts?cursor=\(Input.percentEncoded(next))" }
        return try Self.page("operator-contacts", title: "Contacts", identity: context.identity, values)
    }

    /// A trader's events: those assigned to or taken by them, to take and report.
    @Sendable func traderEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        guard identity.role == .trader else { throw Problem.forbidden("This page is for traders.") }
        let cursor = Self.cursor(request, isValid: CatalogueEvent.isValidCursor)
        let (events, next) = try await catalogue.list(
            openOnly: false, filter: .init(traderID: identity.userID), limit: Self.pageSize, after: cursor)
        var values: [String: Any] = ["events": events.map { Self.fields($0) }, "hasEvents": !events.isEmpty]
        if let next { values["next"] = "/ui/trader/events?cursor=\(next)" }
        return try Self.page("trader-events", title: "My events", identity: context.identity, values)
    }
}
