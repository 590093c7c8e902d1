import BetMaker

/// The brief's payment provider: it signs a deposit with the hex SHA-256 of the values of
/// `account_id`, `amount`, `transaction_id` and `user_id` (keys in alphabetical order), each as sent,
/// followed by the shared secret (`PAYMENT_WEBHOOK_SECRET`). The borders between the values are not
/// signed, which lets some deliveries be forged from others (docs/ARCHITECTURE.md, "The signature's
/// weakness"); the brief fixes the scheme.
public struct SignedWebhookProvider: PaymentProvider {
    private let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    /// The signature the provider puts on `delivery`.
    public func signature(of delivery: DepositDelivery) -> String {
        sha256Hex(delivery.accountID + delivery.amount + delivery.transactionID + delivery.userID + secret)
    }

    /// Compared in constant time; hex digits in either case.
    public func isAuthentic(_ delivery: DepositDelivery, signature: String) -> Bool {
        constantTimeEquals(signature.lowercased(), self.signature(of: delivery))
    }
}
