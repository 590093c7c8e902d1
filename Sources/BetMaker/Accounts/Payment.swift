/// A deposit from the payment provider, as first credited.
public struct Payment: Sendable, Equatable {
    public let transactionID: String
    public let userID: Int
    public let accountID: Int
    public let amount: Money
    /// The account's balance right after the credit.
    public let balance: Money
    public let ledgerEntryID: String
    public let creditedAt: Int64
    public let accountCreated: Bool

    /// From the deposit script's reply after its outcome word.
    init?(transactionID: String, fields: ArraySlice<String>) {
        let values = Array(fields)
        guard values.count == 7, let userID = Int(values[0]), let accountID = Int(values[1]), let amount = Int64(values[2]),
            let balance = Int64(values[3]), let creditedAt = Int64(values[5])
        else { return nil }
        self.transactionID = transactionID
        self.userID = userID
        self.accountID = accountID
        self.amount = Money(cents: amount)
        self.balance = Money(cents: balance)
        self.ledgerEntryID = values[4]
        self.creditedAt = creditedAt
        self.accountCreated = values[6] == "1"
    }
}
