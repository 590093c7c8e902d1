import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/admin/users`: the users with their accounts, and enabling or disabling one. Administrators only
/// (the `/admin` group's `AdministratorsOnly`).
struct AdminRoutes {
    let accounts: AccountStore
    let maximumBodyBytes: Int

    func register(admin users: some RouterMethods<APIRequestContext>) {
        users.get(use: listUsers)
        users.patch("{user_id}", use: updateUser)
    }

    @Sendable func listUsers(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try Input.page(request, isValidCursor: { Int(decimalDigits: $0).map { $0 > 0 } ?? false })
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
        user.writeMembers(accounts: accounts, to: &json)
        json.endObject()
    }

    @Sendable func updateUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        let admin = try context.requireUser()
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
}
