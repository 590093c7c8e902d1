extension InvariantChecker {
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, CaseIterable {
            /// A bet hash with a missing or malformed field, or `settled_at` not matching its status.
            case invalidBet = "invalid-bet"
            /// A bet hash that is not in its index (the anonymous bets, or its user's bets).
            case betNotIndexed = "bet-not-indexed"
            /// A bet in an index it does not belong in (a bet with money among the anonymous ones,
            /// or in another user's list).
            case betInWrongIndex = "bet-in-wrong-index"
            /// A bet listed more than once in the indexes.
            case betIndexedTwice = "bet-indexed-twice"
            /// A bet hash that is not in its event's list.
            case betNotListed = "bet-not-listed"
            /// A bet id listed more than once in its event's list.
            case betListedTwice = "bet-listed-twice"
            /// A bet stored and listed under one event whose `event_id` names another.
            case betInForeignList = "bet-in-foreign-list"
            /// An event list entry that is neither `<bet>` nor `<bet>:<user>:<account>`.
            case invalidListEntry = "invalid-list-entry"
            /// An event list entry naming another owner than its bet has.
            case ownerMismatch = "owner-mismatch"
            /// An id in an event list or in an index with no bet hash behind it.
            case missingBet = "missing-bet"
            /// A key of the layout holding another type than the layout says.
            case wrongType = "wrong-type"
            /// An event field that is malformed or out of range (result, settle_pos, ...).
            case invalidEvent = "invalid-event"
            /// An event's bets/staked/won/lost/void/paid/refunded disagreeing with its bets.
            case countMismatch = "count-mismatch"
            /// A bet's status disagreeing with the event's result and settle_pos.
            case settlementMismatch = "settlement-mismatch"
            /// A bet settled, or settlement begun, on an event without a result.
            case settledWithoutResult = "settled-without-result"
            /// An event marked settled whose list is not settled to the end.
            case settledIncomplete = "settled-incomplete"
            /// A user hash with a missing or malformed field, or out of step with the user indexes.
            case invalidUser = "invalid-user"
            /// An account that is malformed, negative, or whose owner the owners index disagrees on.
            case invalidAccount = "invalid-account"
            /// A ledger entry that is malformed, names an account the user lacks, or whose balance is
            /// not the running sum of the account's entries (or went below zero).
            case ledgerMismatch = "ledger-mismatch"
            /// An account balance that is not the sum of its ledger entries.
            case balanceMismatch = "balance-mismatch"
            /// A bet with money without exactly one stake entry of its amount, or a stake entry
            /// without its bet.
            case stakeMismatch = "stake-mismatch"
            /// A won bet with money without exactly one payout entry of its payout, or a payout
            /// entry for a bet that is not won.
            case payoutMismatch = "payout-mismatch"
            /// A void bet with money without exactly one refund entry of its stake, or a refund entry
            /// for a bet that is not void.
            case refundMismatch = "refund-mismatch"
            /// A deposit entry without its payment record, a payment record without its entry, or a
            /// transaction credited twice.
            case paymentMismatch = "payment-mismatch"
            /// Deposits are not balances + stakes held + the house's result.
            case moneyNotConserved = "money-not-conserved"
            /// An event with bets with money that is not in the catalogue: its result could be
            /// reported anonymously (bets with money are only taken on catalogue events, and a
            /// catalogue event with bets cannot be deleted).
            case moneyOffCatalogue = "money-off-catalogue"
            /// An event's bettors (`RedisKeys.eventBettors`) that are not exactly the users who hold a
            /// bet with money on it: a trader holding one could take the event.
            case bettorsMismatch = "bettors-mismatch"
            /// An event with a result, not settled and not parked, missing from the index of unsettled
            /// events (the worker would never queue it again), or an index member that is not such an event.
            case unsettledIndexMismatch = "unsettled-index-mismatch"
            /// A trade hash with missing or inconsistent fields (a closed trade whose payout is not stake
            /// + profit, a stop-out that paid, an open trade with an outcome).
            case invalidTrade = "invalid-trade"
            /// An open trade missing from its due set, its open set or its user's list (or with the wrong
            /// score), a set member that is not such an open trade, or an entry of a symbol's open-trade
            /// terms that is not an open trade of that symbol with those terms.
            case tradeIndexMismatch = "trade-index-mismatch"
            /// A pending hold that is malformed or older than the reconciler lets one get (`Wallet`).
            case holdMismatch = "hold-mismatch"
            /// A credits outbox entry that is no credit, or owes what no bet of its user is owed.
            case creditMismatch = "credit-mismatch"
        }

        public let kind: Kind
        /// The key the violation is about.
        public let key: String
        public let detail: String

        public init(_ kind: Kind, _ key: String, _ detail: String) {
            self.kind = kind
            self.key = key
            self.detail = detail
        }

        public var description: String { "\(kind.rawValue) \(key): \(detail)" }
    }
}
