extension InvariantChecker {
    /// One bet key as read: nothing there, a bet (with what is wrong with it), a bet's shape with none
    /// of its fields, or text that is not a bet (`RedisKeys.bet`).
    enum StoredBet {
        case missing
        case record(BetRecord)
        case noFields
        case unparsable(String)

        init(_ packed: String?) {
            guard let packed else {
                self = .missing
                return
            }
            guard let fields = BetStore.unpack(packed) else {
                self = .unparsable(packed)
                return
            }
            self = BetRecord(fields).map(StoredBet.record) ?? .noFields
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

        /// nil when the bet has none of the fields.
        init?(_ fields: [String?]) {
            guard fields.contains(where: { $0 != nil }) else { return nil }
            // In the stored order (`BetStore.storedFields`): status, settled_at, event_id, amount, created_at.
            let settledAt = fields[1]
            eventID = fields[2]
            if let eventID {
                if !EventID.isValid(eventID) { problems.append("event_id \"\(eventID)\" is not a valid event id") }
            } else {
                problems.append("event_id is missing")
            }
            if let text = fields[3] {
                if let cents = Int64(text), cents > 0 {
                    amount = cents
                } else {
                    problems.append("amount \"\(text)\" is not a positive number of cents")
                }
            } else {
                problems.append("amount is missing")
            }
            if let text = fields[0] {
                status = BetStatus(storageCode: text)
                if status == nil { problems.append("status \"\(text)\" is not p, w, l or v (pending, won, lost or void)") }
            } else {
                problems.append("status is missing")
            }
            if let text = fields[4] {
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
