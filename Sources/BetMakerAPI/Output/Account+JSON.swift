import BetMaker
import BetMakerRuntime

extension Account {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("balance", balance.description)
        json.endObject()
    }
}

extension Transaction {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("type", kind.rawValue)
        json.field("account_id", accountID)
        json.field("amount", amount.description)
        json.field("balance_after", balance.description)
        json.field("bet_id", betID)
        json.field("trade_id", tradeID)
        json.field("transaction_id", paymentID)
        json.field("created_at", timestamp: createdAt)
        json.endObject()
    }
}
