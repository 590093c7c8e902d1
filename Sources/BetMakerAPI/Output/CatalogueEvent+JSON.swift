import BetMaker
import BetMakerRuntime

extension CatalogueEvent {
    /// A catalogue event; `open` says whether it takes bets now (open and without a result).
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("title", title)
        json.field("home_team", homeTeam)
        json.field("away_team", awayTeam)
        json.field("starts_at", timestamp: startsAt)
        json.field("odds", odds.description)
        json.field("open", takesBets)
        json.field("result", result?.rawValue)
        json.field("state", state.rawValue)
        json.field("trader_id", traderID)
        json.endObject()
    }
}
