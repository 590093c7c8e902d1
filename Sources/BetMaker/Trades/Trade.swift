import NIOCore
import RedisClient

/// Whether a trade gains when the price goes up or when it goes down.
public enum TradeDirection: String, Sendable, CaseIterable {
    case up, down
}

public enum TradeStatus: String, Sendable, CaseIterable {
    /// Accepted, the stake held, waiting for the first tick recorded after acceptance, which it opens
    /// at: its start price is unknown when it is accepted (docs/decisions/0294-trades-open-at-the-next-tick.md).
    case pending
    /// Opened at a tick, the stake held, waiting for its expiry or a stop-out.
    case open
    /// Closed with a profit: the payout is more than the stake.
    case won
    /// Closed with a loss (at expiry, or stopped out with payout 0).
    case lost
    /// Closed at exactly the start price (or a profit under a cent): the stake comes back.
    case even
    /// Voided by an administrator because it cannot be priced (the feed died for good, the symbol was
    /// delisted): the stake comes back as a refund, nothing is won or lost.
    case void
}

/// How a closed trade ended.
public enum TradeClose: String, Sendable {
    /// At the first tick at or after its expiry.
    case expiry
    /// At the first tick that reached its liquidation price, before expiry.
    case stopOut = "stop_out"
    /// Voided by an administrator, without a tick.
    case void
}

/// A recorded price tick: the stream entry id (Redis's clock when the worker recorded it) is its
/// identity and its time.
public struct Tick: Sendable, Equatable {
    public let id: String
    public let price: Price

    public init(id: String, price: Price) {
        self.id = id
        self.price = price
    }

    /// Milliseconds since 1970: the first part of the entry id.
    public var time: Int64 { StreamID.milliseconds(id) }
}

/// An up/down trade on a crypto price with a stake from one of the user's accounts.
public struct Trade: Sendable, Equatable {
    public let id: String
    /// What it was placed with; never changes.
    public let terms: Terms
    public var status: TradeStatus
    // Once closed:
    public var closedBy: TradeClose?
    public var end: Tick?
    public var profit: Money?
    public var payout: Money?
    public var settledAt: Int64?
    /// Why an administrator voided it.
    public var voidReason: String?

    // The terms' values, read through the trade.
    public var userID: Int { terms.userID }
    public var accountID: Int { terms.accountID }
    public var symbol: String { terms.symbol }
    public var direction: TradeDirection { terms.direction }
    public var stake: Money { terms.stake }
    public var leverage: Int { terms.leverage }
    public var duration: Int { terms.duration }
    public var start: Tick? { terms.start }
    public var liquidationPrice: Price? { terms.liquidationPrice }
    public var createdAt: Int64 { terms.createdAt }
    public var expiresAt: Int64? { terms.expiresAt }

    public init(id: String, terms: Terms, status: TradeStatus = .open) {
        self.id = id
        self.terms = terms
        self.status = status
    }

    /// The trade as it was when placed, pending: what an idempotent replay answers, as for bets (its
    /// placing fields never change).
    public var asPlaced: Trade { Trade(id: id, terms: terms.asAccepted, status: .pending) }

    /// The fields of a trade hash, in the order `TradeStore` and the invariant checker read them.
    public static let storedFields = ["status", Terms.field, outcomeField, "void_reason"]

    /// How a closed trade ended, in one field that `close_trades` and `void_trade` write with the status in
    /// one `HSET`: how it closed, `settled_at`, the profit (cents), and for a tick's close the end tick and
    /// its price, separated by single spaces (`expiry 1764400002000 -4 1764400001999-0 5025000000000`,
    /// `void 1764400002000 0`). The payout is not stored: it is stake + profit, so it cannot disagree.
    public static let outcomeField = "outcome"

    /// What a trade is placed with, and once opened the tick it opened at. `place_trade` writes it in
    /// MessagePack (`init(encoded:)`) to the trade's `field` without a start, liquidation price or
    /// expiry; `open_trades` writes it again with them at the first tick after `acceptedAfter`, and
    /// while the trade is open to the symbol's open-trade terms (`RedisKeys.openTradeTerms`), so the
    /// worker and `close_trades` read a batch's terms in one `HMGET`. Nothing changes afterwards.
    public struct Terms: Sendable, Equatable {
        public static let field = "terms"

        public let userID: Int
        public let accountID: Int
        public let symbol: String
        public let direction: TradeDirection
        public let stake: Money
        public let leverage: Int
        /// Seconds from the start tick to expiry.
        public let duration: Int
        /// The tick it opened at; nil while pending.
        public let start: Tick?
        public let liquidationPrice: Price?
        public let createdAt: Int64
        /// The start tick's time plus the duration; nil while pending.
        public let expiresAt: Int64?
        /// The symbol's latest tick when the trade was accepted: it opens at the first tick after it.
        public let acceptedAfter: String

        public init(
            userID: Int, accountID: Int, symbol: String, direction: TradeDirection, stake: Money, leverage: Int, duration: Int,
            start: Tick?, liquidationPrice: Price?, createdAt: Int64, expiresAt: Int64?, acceptedAfter: String
        ) {
            self.userID = userID
            self.accountID = accountID
            self.symbol = symbol
            self.direction = direction
            self.stake = stake
            self.leverage = leverage
            self.duration = duration
            self.start = start
            self.liquidationPrice = liquidationPrice
            self.createdAt = createdAt
            self.expiresAt = expiresAt
            self.acceptedAfter = acceptedAfter
        }

        /// The terms as accepted, before the opening tick.
        public var asAccepted: Terms {
            Terms(
                userID: userID, accountID: accountID, symbol: symbol, direction: direction, stake: stake, leverage: leverage,
                duration: duration, start: nil, liquidationPrice: nil, createdAt: createdAt, expiresAt: nil, acceptedAfter: acceptedAfter)
        }
    }

    /// An outcome's values (`outcomeField`): split by bytes, not by `Character`s, as the grapheme
    /// breaking of `String.split` cost the worker several µs a trade.
    static func split(_ packed: String) -> [Substring] {
        packed.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// A trade from the reply of an `HMGET` of its hash's `storedFields`; nil when a field is missing or
    /// malformed.
    public init?(id: String, stored reply: RESPValue) throws(RedisError) {
        let fields = try reply.array(for: "HMGET")
        guard fields.count == Self.storedFields.count else { throw reply.unexpected("HMGET") }
        var terms: ByteBuffer?
        if case .bulkString(let bytes) = fields[1] { terms = bytes }
        self.init(id: id, status: fields[0].string, terms: terms, outcome: fields[2].string, voidReason: fields[3].string)
    }

    /// A trade from its hash's `storedFields` (the terms as their bytes); nil when a field is missing or
    /// malformed.
    public init?(id: String, status: String?, terms: ByteBuffer?, outcome: String?, voidReason: String?) {
        guard let status = status.flatMap(TradeStatus.init(rawValue:)), let terms = terms.flatMap(Terms.init(encoded:)) else {
            return nil
        }
        self.init(id: id, terms: terms, status: status)
        self.voidReason = voidReason
        guard let outcome else { return }
        let parts = Self.split(outcome)
        guard parts.count == 3 || parts.count == 5, let closedBy = TradeClose(rawValue: String(parts[0])),
            let settledAt = Int64(parts[1]), let profit = Int64(parts[2])
        else { return nil }
        self.closedBy = closedBy
        self.settledAt = settledAt
        self.profit = Money(cents: profit)
        payout = terms.stake + Money(cents: profit)
        if parts.count == 5 {
            guard let endPrice = Int64(parts[4]) else { return nil }
            end = Tick(id: String(parts[3]), price: Price(units: endPrice))
        }
    }
}

/// The latest recorded price of a symbol.
public struct Quote: Sendable, Equatable {
    public let symbol: String
    public let tick: Tick
    /// Where the price came from: `coinmarketcap`, `simulated`, or what a test recorded.
    public let source: String

    public init(symbol: String, tick: Tick, source: String) {
        self.symbol = symbol
        self.tick = tick
        self.source = source
    }

    /// Milliseconds since the tick was recorded, by `now`.
    public func age(now: Int64) -> Int64 { max(0, now - tick.time) }
}

/// A source of prices: CoinMarketCap, the simulated walk, or nothing (ticks recorded by tests). Only
/// the worker reads it; the API reads the prices the worker recorded in Redis.
public protocol PriceFeed: Sendable {
    /// A short name, recorded with each tick (`source`).
    var name: String { get }
    /// The current prices of these symbols; a symbol the feed does not know is left out.
    func prices(for symbols: [String]) async throws -> [String: Price]
}
