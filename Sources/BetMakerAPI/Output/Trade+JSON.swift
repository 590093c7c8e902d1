import BetMaker
import BetMakerRuntime
import RedisClient

extension Trade {
    var json: [UInt8] {
        var writer = JSONWriter(capacity: 600)
        write(to: &writer)
        return writer.bytes
    }

    /// The trade as the API shows it: money as decimal strings with 2 places, prices with 8, and the
    /// ticks it used (id, time, price), so any outcome can be audited against the tick streams.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("symbol", symbol)
        json.field("direction", direction.rawValue)
        json.field("amount", stake.description)
        json.field("leverage", leverage)
        json.field("duration", duration)
        json.field("account_id", accountID)
        json.field("status", status.rawValue)
        // Nil while pending: the trade opens at the first tick after its acceptance.
        json.key("start")
        if let start { start.write(to: &json) } else { json.null() }
        json.field("liquidation_price", liquidationPrice?.description)
        json.field("created_at", timestamp: createdAt)
        json.field("expires_at", timestamp: expiresAt)
        json.field("closed_by", closedBy?.rawValue)
        json.key("end")
        if let end { end.write(to: &json) } else { json.null() }
        json.field("profit", profit?.description)
        json.field("payout", payout?.description)
        json.field("settled_at", timestamp: settledAt)
        json.field("void_reason", voidReason)
        json.endObject()
    }
}

extension Tick {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("tick", id)
        json.field("time", timestamp: time)
        json.field("price", price.description)
        json.endObject()
    }
}

extension Quote {
    func write(to json: inout JSONWriter, now: Int64, maximumAge: Duration) {
        json.beginObject()
        json.field("symbol", symbol)
        json.field("price", tick.price.description)
        json.field("tick", tick.id)
        json.field("time", timestamp: tick.time)
        json.field("source", source)
        json.field("age_ms", age(now: now))
        json.field("stale", age(now: now) > maximumAge.inMilliseconds)
        json.endObject()
    }
}
