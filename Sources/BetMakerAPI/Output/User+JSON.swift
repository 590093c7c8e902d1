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
}
