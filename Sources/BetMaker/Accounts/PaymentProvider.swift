/// A deposit as the payment provider delivers it (`POST /payment/webhook`): each value as the text
/// it was sent as, since that text, not the number it stands for, is what the provider signs (`100`
/// and `100.00` sign differently).
public struct DepositDelivery: Sendable, Equatable {
    public let transactionID, userID, accountID, amount: String

    public init(transactionID: String, userID: String, accountID: String, amount: String) {
        (self.transactionID, self.userID, self.accountID, self.amount) = (transactionID, userID, accountID, amount)
    }
}

/// The payment provider, as bet-maker needs it: whoever sends deposits, signed so that nobody else
/// can. The adapter for the brief's provider, and its fake, are in `Sources/Adapters/PaymentProvider`.
public protocol PaymentProvider: Sendable {
    /// True when `signature` is the provider's signature of `delivery`.
    func isAuthentic(_ delivery: DepositDelivery, signature: String) -> Bool
}
