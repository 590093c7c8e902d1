import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/admin/trade-dead-letters`: the trades the worker parked because `close_trades` refused them at
/// their closing tick, and re-driving one once its cause is repaired. Administrators only (the
/// `/admin` group's `AdministratorsOnly`).
struct TradeDeadLetterRoutes {
    let store: TradeStore
    let symbols: [String]

    func register(admin deadLetters: some RouterMethods<APIRequestContext>) {
        deadLetters.get(use: list)
        deadLetters.post("{id}/retry", use: retry)
    }

    /// Every parked trade of the configured symbols, oldest first (there are few: each is an alert).
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let letters = try await store.deadLetters(symbols: symbols)
        return .json(capacity: 64 + letters.count * 300) { json in
            json.beginArray()
            for letter in letters { letter.write(to: &json) }
            json.endArray()
        }
    }

    /// Closes the parked trade at the tick it was parked at and deletes its dead letter: 200 with the
    /// trade; 409 while `close_trades` still refuses it (the letter stays).
    @Sendable func retry(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameter("id")
        guard TradeID(id) != nil else { throw Problem.notFound("There is no parked trade \(id).") }
        switch try await store.retryDeadLetter(tradeID: id) {
        case .closed(let trade):
            context.logger.notice("Trade dead letter re-driven", metadata: ["trade_id": "\(id)", "status": "\(trade.status.rawValue)"])
            return .json(.ok, trade.json)
        case .missing:
            throw Problem.notFound("There is no parked trade \(id).")
        case .notRetryable(let why):
            throw Problem.conflict(
                "trade-dead-letter-not-retryable", title: "The parked trade cannot be closed yet",
                detail: "Trade \(id) still cannot close: \(why). Repair that, then retry; the dead letter stays.")
        }
    }
}

extension TradeDeadLetter {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("trade_id", tradeID)
        json.field("symbol", symbol)
        json.field("step", step.rawValue)
        json.field("tick", tick.id)
        json.field("price", tick.price.description)
        json.field("parked_at", timestamp: parkedAt)
        json.field("reason", reason)
        json.endObject()
    }
}
