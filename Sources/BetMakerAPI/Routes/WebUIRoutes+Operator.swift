import BetMaker
import BetMakerRuntime
import Hummingbird

/// The operator's and the trader's pages: administrators only, except the trader's own events.
extension WebUIRoutes {
    @Sendable func operatorEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: CatalogueEvent.isValidCursor)
        let (events, next) = try await catalogue.list(openOnly: false, limit: Self.pageSize, after: cursor)
        var values: [String: Any] = ["events": events.map(Self.fields)]
        if let next { values["next"] = "/ui/operator/events?cursor=\(next)" }
        return try Self.page("operator-events", title: "Operator: events", identity: context.identity, values, live: "events")
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
        return try Self.page("operator-users", title: "Operator: users", identity: context.identity, values)
    }

    /// What the settlement workers gave up on, newest first, to re-drive once the cause is repaired (the
    /// API's `POST /admin/dead-letters/{id}/retry`).
    @Sendable func operatorDeadLetters(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: StreamID.isValid)
        let (letters, next) = try await deadLetters.deadLetters(limit: Self.pageSize, before: cursor)
        var values: [String: Any] = [
            "letters": letters.map { letter -> [String: Any] in
                [
                    "id": letter.id, "deadLetteredAt": letter.deadLetteredAt.map { Timestamp.rfc3339($0) } ?? "", "entryID": letter.entryID,
                    "reason": letter.reason, "deliveries": String(letter.deliveries),
                    "fields": letter.fields.map { $0.name + "=" + $0.value }.joined(separator: " "),
                ]
            }
        ]
        if let next { values["next"] = "/ui/operator/dead-letters?cursor=\(next)" }
        return try Self.page("operator-dead-letters", title: "Operator: dead letters", identity: context.identity, values)
    }

    /// The email contacts by address: play counts, the linked user, the ESP's sync state; erasing one is
    /// the API's `DELETE /admin/contacts/{email}`.
    @Sendable func operatorContacts(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let cursor = Self.cursor(request, isValid: { EmailAddress(normalizing: $0)?.value == $0 })
        let (found, next) = try await contacts.contacts(limit: Self.pageSize, after: cursor)
        var values: [String: Any] = [
            "contacts": found.map { contact -> [String: Any] in
                [
                    "email": contact.email, "plays": String(contact.plays), "userID": contact.userID.map(String.init) ?? "",
                    "inESP": contact.inESP.map { $0 ? "yes" : "no" } ?? "unknown", "sync": contact.sync.rawValue,
                    "attempts": String(contact.attempts), "lastError": contact.lastError ?? "",
                    "lastPlayedAt": Timestamp.rfc3339(contact.lastPlayedAt),
                    "syncedAt": contact.syncedAt.map { Timestamp.rfc3339($0) } ?? "",
                ]
            }
        ]
        if let next { values["next"] = "/ui/operator/contacts?cursor=\(Input.percentEncoded(next))" }
        return try Self.page("operator-contacts", title: "Operator: contacts", identity: context.identity, values)
    }

    /// A trader's events: those assigned to or taken by them, to take and report.
    @Sendable func traderEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        guard identity.role == .trader else { throw Problem.forbidden("This page is for traders.") }
        let cursor = Self.cursor(request, isValid: CatalogueEvent.isValidCursor)
        let (events, next) = try await catalogue.list(
            openOnly: false, filter: .init(traderID: identity.userID), limit: Self.pageSize, after: cursor)
        var values: [String: Any] = ["events": events.map(Self.fields)]
        if let next { values["next"] = "/ui/trader/events?cursor=\(next)" }
        return try Self.page("trader-events", title: "My events", identity: context.identity, values)
    }
}
