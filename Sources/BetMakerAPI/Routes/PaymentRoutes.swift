import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `POST /payment/webhook`: deposits from the payment provider, signed by it. The provider checks
/// the signature (`SignedWebhookProvider`: the brief's SHA-256 over the values as sent and the shared
/// secret). A transaction id is credited once, however often it is delivered, and a signature is
/// accepted for one transaction only: the signature does not sign the borders between the values, so
/// the same signature on other values is a delivery forged by moving digits across them (decision 0274).
struct PaymentRoutes {
    let accounts: AccountStore
    /// Nil without `PAYMENT_WEBHOOK_SECRET`: every delivery is then refused.
    let provider: (any PaymentProvider)?
    let maximumBodyBytes: Int
    let maximumDeposit: Money

    func register(on payment: some RouterMethods<APIRequestContext>) {
        payment.post("webhook", use: webhook)
    }

    static let fields = ["transaction_id", "user_id", "account_id", "amount", "signature"]

    @Sendable func webhook(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let provider else {
            // No Retry-After: this lasts until an operator configures the secret.
            throw Problem(
                .serviceUnavailable, "payments-not-configured", title: "Payments are not configured",
                detail: "This server has no PAYMENT_WEBHOOK_SECRET, so it cannot check deliveries; nothing was credited.")
        }
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: Self.fields, errors: &errors)
        let transactionID = Input.text(fields["transaction_id"], field: "transaction_id", maximumLength: 128).collect(into: &errors)
        if let transactionID, !EventID.isValid(transactionID) { errors.append(.init("transaction_id", "must be \(EventID.rule)")) }
        let user = Input.identifier(fields["user_id"], field: "user_id").collect(into: &errors)
        let account = Input.identifier(fields["account_id"], field: "account_id").collect(into: &errors)
        // The amount's text as sent is what the provider signed.
        let amountText = try? Input.numberText(fields["amount"], field: "amount", expected: "").get()
        let amount = Input.stake(fields["amount"], maximum: maximumDeposit).collect(into: &errors)
        let signature = Input.text(fields["signature"], field: "signature", maximumLength: 64).collect(into: &errors)
        if let signature, signature.utf8.count != 64 || !signature.utf8.allSatisfy(Self.isHexDigit) {
            errors.append(.init("signature", "must be 64 hexadecimal digits (a SHA-256)"))
        }
        guard let transactionID, let user, let account, let amount, let amountText, let signature, errors.isEmpty else {
            throw Problem.validation(errors)
        }
        let delivery = DepositDelivery(transactionID: transactionID, userID: user.text, accountID: account.text, amount: amountText)
        guard provider.isAuthentic(delivery, signature: signature) else {
            context.logger.warning("Payment webhook with a bad signature", metadata: ["transaction_id": "\(transactionID)"])
            // 403, not 400: the delivery is well-formed, but not the provider's (its credentials are wrong).
            throw Problem(
                .forbidden, "invalid-signature", title: "The signature does not match",
                detail:
                    "The signature is not the SHA-256 of account_id, amount, transaction_id, user_id and the shared secret; nothing was credited."
            )
        }
        switch try await accounts.deposit(
            transactionID: transactionID, userID: user.value, accountID: account.value, amount: amount, signature: signature)
        {
        case .credited(let payment):
            context.logger.info(
                "Payment credited",
                metadata: [
                    "transaction_id": "\(transactionID)", "user_id": "\(user.value)", "account_id": "\(account.value)",
                    "amount": "\(amount)",
                ])
            return .json { payment.write(to: &$0, replayed: false) }
        case .replayed(let payment):
            return .json { payment.write(to: &$0, replayed: true) }
        case .conflict(let firstUser, let firstAccount, let firstAmount):
            throw Problem.conflict(
                "transaction-conflict", title: "The transaction was credited with other values",
                detail:
                    "Transaction \(transactionID) was credited as \(firstAmount) to account \(firstAccount) of user \(firstUser); this delivery differs and changed nothing."
            )
        case .signatureReused(let first):
            context.logger.warning(
                "Payment webhook with a signature accepted for another transaction",
                metadata: ["transaction_id": "\(transactionID)", "accepted_for": "\(first)"])
            // The first transaction's id stays in the log: whoever sent this may not be the provider.
            throw Problem.conflict(
                "signature-reused", title: "The signature was accepted for another transaction",
                detail:
                    "This signature was accepted before for a transaction with other values, so it does not vouch for these; "
                    + "nothing was credited. Each delivery of the provider signs its own values.")
        case .noSuchUser:
            throw Problem.conflict(
                "unknown-user", title: "No such user", detail: "User \(user.value) is not a user of this service; nothing was credited.")
        case .foreignAccount:
            throw Problem.conflict(
                "account-owned-by-another-user", title: "The account belongs to another user",
                detail: "Account \(account.value) is not user \(user.value)'s; nothing was credited.")
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
    }
}
