extension InvariantChecker {
    /// One bet key as read: nothing there (no bet field at all), or a bet with what is wrong with it.
    enum StoredBet {
        case missing
        case record(BetRecord)

        init(_ fields: [String?]) {
            self = BetRecord(fields).map(StoredBet.record) ?? .missing
        }
    }

    /// A bet as read: the fields that parse, and what is wrong with it.
    struct BetRecord {
        var eventID: String?
        var amount: Int64?
        var status: BetStatus?
        /// The owner and terms of a bet with money.
        var wager: (userID: Int, accountID: Int, payout: Int64)?
        var problems: [String] = []

        /// Every field of a bet hash (`RedisKeys.bet`), in the order `init` reads them.
        static let fields = ["status", "event_id", "amount", "created_at", "settled_at", "user_id", "account_id", "odds", "payout"]

        /// nil when the bet has none of the fields.
        init?(_ fields: [String?]) {
            guard fields.contains(where: { $0 != nil }) else { return nil }
            let settledAt = fields[4]
            eventID = fields[1]
            if let eventID {
                if !EventID.isValid(eventID) { problems.append("event_id \"\(eventID)\" is not a valid event id") }
            } else {
                problems.append("event_id is missing")
            }
            if let text = fields[2] {
                if let cents = Int64(text), cents > 0 {
                    amount = cents
                } else {
                    problems.append("amount \"\(text)\" is not a positive number of cents")
                }
            } else {
                problems.append("amount is missing")
            }
            if let text = fields[0] {
                status = BetStatus(rawValue: text)
                if status == nil { problems.append("status \"\(text)\" is not pending, won, lost or void") }
            } else {
                problems.append("status is missing")
            }
            if let text = fields[3] {
                if Int64(text) == nil { problems.append("created_at \"\(text)\" is not a time in milliseconds") }
            } else {
                problems.append("created_at is missing")
            }
            if let text = settledAt, Int64(text) == nil { problems.append("settled_at \"\(text)\" is not a time in milliseconds") }
            switch (status, settledAt) {
            case (.pending, .some): problems.append("settled_at is set on a pending bet")
            case (.won, .none), (.lost, .none), (.void, .none): problems.append("status is \(status!.rawValue) but settled_at is missing")
            default: break
            }
            // user_id, account_id, odds, payout: all four (a bet with money) or none.
            let walletFields = fields[5...8]
            if walletFields.contains(where: { $0 != nil }) {
                if let userID = fields[5].flatMap({ Int($0) }), let accountID = fields[6].flatMap({ Int($0) }),
                    let odds = fields[7].flatMap({ Int64($0) }), let payout = fields[8].flatMap({ Int64($0) }), userID > 0, accountID > 0
                {
                    wager = (userID, accountID, payout)
                    if !(Odds.minimum.hundredths...Odds.maximum.hundredths).contains(odds) {
                        problems.append("odds \(odds) are out of range")
                    }
                    if let amount, payout != amount * odds / 100 {
                        problems.append("payout \(payout) is not amount \(amount) x odds \(odds) / 100, rounded down")
                    }
                } else {
                    problems.append("user_id, account_id, odds and payout must all be set and valid, or none: \(Array(walletFields))")
                }
            }
        }
    }

    /// What the index and ledger checks need of a bet with money (amount and status are nil when the
    /// bet lacks them, which is reported on its own).
    struct WalletBet {
        let userID: Int
        let accountID: Int
        let amount: Int64?
        let status: BetStatus?
        let payout: Int64
        var stakes = 0
        var payouts = 0
        var refunds = 0
    }
}
