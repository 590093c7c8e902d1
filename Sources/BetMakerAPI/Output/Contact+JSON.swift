import BetMaker
import BetMakerRuntime
import RedisClient

extension ContactStore.Play {
    /// `{email, in_esp, in_db, game_count}`, and `in_esp_note` saying why `in_esp` is null when it is.
    func write(to json: inout JSONWriter, lookupTimeout: Duration) {
        json.beginObject()
        json.field("email", address.value)
        json.key("in_esp")
        if let inESP { json.bool(inESP) } else { json.null() }
        json.field("in_db", wasKnown)
        json.field("game_count", plays)
        if inESP == nil {
            json.field(
                "in_esp_note",
                lookupFailed
                    ? "The email service provider did not answer within \(lookupTimeout.inMilliseconds) ms, so whether it already had "
                        + "this address is unknown. The play counts; the contact will be created there once it answers."
                    : "The email service provider has not confirmed this contact yet; its creation there is queued.")
        }
        json.endObject()
    }
}

extension Contact {
    /// A contact as administrators see it.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("email", email)
        json.field("game_count", plays)
        json.key("user_id")
        if let userID { json.integer(userID) } else { json.null() }
        json.key("in_esp")
        if let inESP { json.bool(inESP) } else { json.null() }
        json.field("created_at", timestamp: createdAt)
        json.field("last_played_at", timestamp: lastPlayedAt)
        json.field("sync_state", sync.rawValue)
        json.field("sync_attempts", attempts)
        json.field("last_sync_error", lastError)
        json.field("synced_at", timestamp: syncedAt)
        json.endObject()
    }
}
