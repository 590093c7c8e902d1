import RedisClient

/// One immutable entry of a user's ledger: every change of a balance is one.
public struct Transaction: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Money from the payment provider.
        case deposit
        /// A bet's or a trade's stake, debited when it is placed.
        case stake
        /// A won bet's payout, or what a closed trade pays back (above zero).
        case payout
        /// A void bet's stake, given back once.
        case refund
        /// A stake held for a bet or trade that was refused or never placed, given back (`Wallet.release`).
        case release
    }

    /// The ledger stream's entry id; it orders the ledger and tells the time.
    public let id: String
    public let kind: Kind
    public let accountID: Int
    /// Signed: a stake is negative.
    public let amount: Money
    /// The account's balance right after this transaction.
    public let balance: Money
    /// The bet of a stake, payout or refund.
    public let betID: String?
    /// The trade of a stake or payout.
    public let tradeID: String?
    /// The payment provider's id of a deposit.
    public let paymentID: String?

    public var createdAt: Int64 { Int64(id.prefix { $0 != "-" }) ?? 0 }

    init?(_ entry: StreamEntry) {
        guard let fields = entry.fields, let kind = fields["type"].flatMap(Kind.init(rawValue:)),
            let accountID = fields["account_id"].flatMap({ Int($0) }), let amount = fields["amount"].flatMap({ Int64($0) }),
            let balance = fields["balance"].flatMap({ Int64($0) })
        else { return nil }
        self.id = entry.id
        self.kind = kind
        self.accountID = accountID
        self.amount = Money(cents: amount)
        self.balance = Money(cents: balance)
        self.betID = fields["bet_id"]
        self.tradeID = fields["trade_id"]
        self.paymentID = fields["transaction_id"]
    }
}
