extension InvariantChecker {
    public struct Report: Sendable {
        /// The first `maximumKeptViolations` violations, in the order found.
        public internal(set) var violations: [Violation] = []
        /// Every violation found, kept or not.
        public internal(set) var violationCount = 0
        public internal(set) var countsByKind: [Violation.Kind: Int] = [:]
        /// Bet hashes checked.
        public internal(set) var bets = 0
        /// Events checked (event hashes and lists).
        public internal(set) var events = 0
        /// Ids in the indexes (anonymous bets and users' bets).
        public internal(set) var indexedBets = 0
        /// Users and accounts checked.
        public internal(set) var users = 0
        public internal(set) var accounts = 0
        /// Users that no login names and no index lists: registrations cut short between their steps,
        /// unreachable and without money.
        public internal(set) var orphanUsers = 0
        /// The money, as the ledgers and the bets tell it.
        public internal(set) var money = Money.Totals()

        public var isClean: Bool { violationCount == 0 }

        public func count(_ kind: Violation.Kind) -> Int { countsByKind[kind] ?? 0 }

        public var summary: String {
            "\(violationCount) violation(s); \(bets) bets, \(events) events, \(indexedBets) ids in the indexes, \(users) users, "
                + "\(accounts) accounts checked; deposits \(money.deposits) = balances \(money.balances) + holds \(money.holds) + stakes held "
                + "\(money.stakesHeld) + credits owed \(money.owed) + house result \(money.houseResult)"
        }
    }
}

extension Money {
    /// The money in a store as the invariant checker adds it up.
    public struct Totals: Sendable, Equatable {
        public internal(set) var deposits = Money(cents: 0)
        public internal(set) var balances = Money(cents: 0)
        /// Stakes of pending bets with money.
        public internal(set) var stakesHeld = Money(cents: 0)
        /// Stakes of settled bets with money.
        public internal(set) var settledStakes = Money(cents: 0)
        public internal(set) var payouts = Money(cents: 0)
        /// Stakes given back for void bets.
        public internal(set) var refunds = Money(cents: 0)
        /// Stakes held for bets and trades not placed (yet, or ever: the reconciler voids those).
        public internal(set) var holds = Money(cents: 0)
        /// Payouts and refunds the credits outboxes owe and that are not applied yet.
        public internal(set) var owed = Money(cents: 0)

        /// What the house won: stakes of settled bets (void ones included), less what it paid out and
        /// refunded or owes.
        public var houseResult: Money { settledStakes - payouts - refunds - owed }
    }
}
