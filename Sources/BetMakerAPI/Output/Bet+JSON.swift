import BetMaker
import BetMakerRuntime

// Hand-written with `JSONWriter`, field by field: a listing writes a hundred of these per request
// (docs/PERFORMANCE.md).
extension Bet {
    /// The bet as a response body of its own.
    var json: [UInt8] {
        var writer = JSONWriter(capacity: 200)
        write(to: &writer)
        return writer.bytes
    }

    /// The bet as the API shows it, in a body of its own or in a listing.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id.description)
        json.field("event_id", eventID)
        json.field("amount", amount.description)
        json.field("status", status.rawValue)
        json.field("created_at", timestamp: createdAt)
        json.field("settled_at", timestamp: settledAt)
        if let wager {
            json.field("account_id", wager.accountID)
            json.field("odds", wager.odds.description)
            json.field("payout", wager.payout.description)
        }
        json.endObject()
    }
}
