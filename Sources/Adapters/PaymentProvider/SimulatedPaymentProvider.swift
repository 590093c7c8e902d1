import BetMaker

/// The payment provider's side of the webhook, for tests and trials: deliveries signed with a shared
/// secret as the provider signs them (`SignedWebhookProvider`).
public struct SimulatedPaymentProvider: Sendable {
    private let signer: SignedWebhookProvider

    public init(secret: String) {
        self.signer = SignedWebhookProvider(secret: secret)
    }

    /// A delivery's JSON body, signed; the ids and the amount are written as given, and the amount's
    /// text is what gets signed.
    public func webhookBody(transactionID: String, userID: Int, accountID: Int, amount: String) -> String {
        let delivery = DepositDelivery(transactionID: transactionID, userID: String(userID), accountID: String(accountID), amount: amount)
        return
            #"{"transaction_id": "\#(transactionID)", "user_id": \#(userID), "account_id": \#(accountID), "amount": \#(amount), "signature": "\#(signer.signature(of: delivery))"}"#
    }
}
