import BetMaker
import BetMakerRuntime

extension Payment {
    /// The payment webhook's answer; `replayed` when the transaction was credited by an earlier delivery.
    func write(to json: inout JSONWriter, replayed: Bool) {
        json.beginObject()
        json.field("transaction_id", transactionID)
        json.field("status", "credited")
        json.field("user_id", userID)
        json.field("account_id", accountID)
        json.field("amount", amount.description)
        json.field("balance_after", balance.description)
        json.field("account_created", accountCreated)
        json.field("credited_at", timestamp: creditedAt)
        json.field("replayed", replayed)
        json.endObject()
    }
}
