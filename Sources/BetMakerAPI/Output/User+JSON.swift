import BetMaker
import BetMakerRuntime

extension User {
    /// A user without their password: `active` besides `status`, for clients that only need that.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("login", login)
        json.field("role", role.rawValue)
        json.field("active", status == .active)
        json.field("status", status.rawValue)
        json.field("created_at", timestamp: createdAt)
        json.field("activated_at", timestamp: activatedAt)
        json.endObject()
    }

    /// The `user` and `accounts` members of an object that is already open: what `/admin/users` and
    /// `/users/me` both show of a user.
    func writeMembers(accounts: [Account], to json: inout JSONWriter) {
        json.key("user")
        write(to: &json)
        json.key("accounts")
        json.beginArray()
        for account in accounts { account.write(to: &json) }
        json.endArray()
    }
}
