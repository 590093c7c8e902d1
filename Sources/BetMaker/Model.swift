#if canImport(Glibc)
    import Glibc
#endif

public enum BetStatus: String, Sendable, CaseIterable {
    case pending, won, lost
}

/// The reported outcome of an event, from the first team's side: WIN settles its bets as won; LOSE
/// (a loss or a draw) settles them as lost.
public enum EventResult: String, Sendable, CaseIterable {
    case win = "WIN"
    case lose = "LOSE"

    public var settledStatus: BetStatus { self == .win ? .won : .lost }
}

/// Event ids: whatever the operator's feed uses, within a safe alphabet. The alphabet leaves out
/// `{` and `}` (Redis Cluster hash tags), `/` and `%` (URL paths) and anything needing escapes.
public enum EventID {
    public static let maximumLength = 128

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let utf8 = text.utf8
        return !utf8.isEmpty && utf8.count <= maximumLength && utf8.allSatisfy(isAllowed)
    }

    public static let rule = "1 to 128 characters from A-Z a-z 0-9 . _ : -"

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
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
    public let id: String
    public let eventID: String
    public let amount: Money
    public var status: BetStatus
    /// Milliseconds since 1970.
    public let createdAt: Int64
    public var settledAt: Int64?
    /// Set for a bet placed with money from an account; nil for an anonymous bet.
    public let wager: Wager?

    public init(
        id: String, eventID: String, amount: Money, status: BetStatus, createdAt: Int64, settledAt: Int64? = nil, wager: Wager? = nil
    ) {
        self.id = id
        self.eventID = eventID
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.settledAt = settledAt
        self.wager = wager
    }

    /// The bet as its placing request was answered: pending, not settled. An idempotent replay
    /// answers this, whatever happened to the bet since.
    public var asPlaced: Bet {
        Bet(id: id, eventID: eventID, amount: amount, status: .pending, createdAt: createdAt, wager: wager)
    }
}

/// One entry of an event's bet list: the bet id, and for a bet with money its user and account, so
/// that settlement knows which wallets to pay from the list alone (a script must be given every key
/// it touches, and the list is what the worker reads anyway). `<bet id>` or `<bet id>:<user>:<account>`.
public struct EventListEntry: Sendable {
    public let betID: String
    public let owner: (userID: Int, accountID: Int)?

    public init(betID: String, owner: (userID: Int, accountID: Int)? = nil) {
        self.betID = betID
        self.owner = owner
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            self.init(betID: String(parts[0]))
        case 3:
            guard let userID = Int(parts[1]), let accountID = Int(parts[2]), userID > 0, accountID > 0 else { return nil }
            self.init(betID: String(parts[0]), owner: (userID, accountID))
        default:
            return nil
        }
    }
}

/// Decimal odds of the first team winning, in hundredths: `1.85` is 185. A win pays stake × odds,
/// rounded down to the cent, computed by `place_wallet_bet` when the bet is placed.
public struct Odds: Sendable, Hashable, CustomStringConvertible {
    public let hundredths: Int64

    public init(hundredths: Int64) {
        self.hundredths = hundredths
    }

    public static let minimum = Odds(hundredths: 101)
    public static let maximum = Odds(hundredths: 100_000)
    public static let rule = "must be decimal odds from 1.01 to 1000.00, at most two decimal places"

    /// Odds from their exact decimal text (the grammar of amounts), 1.01 to 1000.00.
    public init?(parsing text: Substring) {
        guard let value = try? Money(parsing: text), (Self.minimum.hundredths...Self.maximum.hundredths).contains(value.cents) else {
            return nil
        }
        hundredths = value.cents
    }

    public var description: String { Money(cents: hundredths).description }
}

/// What the API tells about one event.
public struct EventSummary: Sendable, Equatable {
    public let id: String
    public let result: EventResult?
    public let reportedAt: Int64?
    public let settledAt: Int64?
    public let bets: Int
    public let won: Int
    public let lost: Int
    public let staked: Money
    /// Credited to the accounts of won bets with money so far.
    public let paidOut: Money
    /// The event's catalogue entry, when it has one.
    public let catalogue: CatalogueEvent?

    public init(
        id: String, result: EventResult?, reportedAt: Int64?, settledAt: Int64?, bets: Int, won: Int, lost: Int, staked: Money,
        paidOut: Money = Money(cents: 0), catalogue: CatalogueEvent? = nil
    ) {
        self.id = id
        self.result = result
        self.reportedAt = reportedAt
        self.settledAt = settledAt
        self.bets = bets
        self.won = won
        self.lost = lost
        self.staked = staked
        self.paidOut = paidOut
        self.catalogue = catalogue
    }

    public var pending: Int { bets - won - lost }

}
