public enum BetStatus: String, Sendable, CaseIterable {
    case pending, won, lost
    /// The event was voided: the bet is off and its stake, if it had money, is refunded.
    case void
}

/// What a bet with money holds beyond an anonymous one: whose account paid the stake, the odds
/// locked in when it was placed, and what a win pays.
public struct Wager: Sendable, Equatable {
    public let userID: Int
    public let accountID: Int
    public let odds: Odds
    /// Credited to the account when the bet is won: stake × odds, rounded down to the cent.
    public let payout: Money

    public init(userID: Int, accountID: Int, odds: Odds, payout: Money) {
        self.userID = userID
        self.accountID = accountID
        self.odds = odds
        self.payout = payout
    }
}

public struct Bet: Sendable, Equatable {
    public let id: BetID
    public let amount: Money
    public var status: BetStatus
    /// Milliseconds since 1970.
    public let createdAt: Int64
    public var settledAt: Int64?
    /// Set for a bet placed with money from an account; nil for an anonymous bet.
    public let wager: Wager?

    public var eventID: String { id.eventID }

    public init(id: BetID, amount: Money, status: BetStatus, createdAt: Int64, settledAt: Int64? = nil, wager: Wager? = nil) {
        self.id = id
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.settledAt = settledAt
        self.wager = wager
    }

    /// The bet as its placing request was answered: pending, not settled. An idempotent replay
    /// answers this, whatever happened to the bet since.
    public var asPlaced: Bet {
        Bet(id: id, amount: amount, status: .pending, createdAt: createdAt, wager: wager)
    }
}
