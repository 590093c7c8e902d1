import BetMaker
import BetMakerRuntime

extension CatalogueEvent {
    /// A catalogue event; `open` says whether it takes bets at `now` (ms since 1970): open by the
    /// operator, without a result, not taken by a trader and not started. `closed_reason` says why
    /// not (null while it does).
    func write(to json: inout JSONWriter, now: Int64 = currentMilliseconds()) {
        let closed = closedReason(at: now)
        json.beginObject()
        json.field("id", id)
        json.field("title", title)
        json.field("home_team", homeTeam)
        json.field("away_team", awayTeam)
        json.field("starts_at", timestamp: startsAt)
        json.field("odds", odds.description)
        json.field("open", closed == nil)
        json.field("closed_reason", closed?.rawValue)
        json.field("result", result?.rawValue)
        json.field("state", state.rawValue)
        json.field("trader_id", traderID)
        json.endObject()
    }
}
