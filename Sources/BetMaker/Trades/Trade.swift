/// Whether a trade gains when the price goes up or when it goes down.
public enum TradeDirection: String, Sendable, CaseIterable {
    case up, down
}

public enum TradeStatus: String, Sendable, CaseIterable {
    /// Accepted, the stake held, waiting for its expiry or a stop-out.
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
    public var time: Int64 { Int64(id.prefix { $0 != "-" }) ?? 0 }
}

/// An up/down trade on a crypto price with a stake from one of the user's accounts.
public struct Trade: Sendable, Equatable {
    public let id: String
    public let userID: Int
    public let accountID: Int
    public let symbol: String
    public let direction: TradeDirection
    public let stake: Money
    public let leverage: Int
    /// Seconds from acceptance to expiry.
    public let duration: Int
    public let start: Tick
    public let liquidationPrice: Price?
    public let createdAt: Int64
    public let expiresAt: Int64
    public var status: TradeStatus
    // Once closed:
    public var closedBy: TradeClose?
    public var end: Tick?
    public var profit: Money?
    public var payout: Money?
    public var settledAt: Int64?
    /// Why an administrator voided it.
    public var voidReason: String?

    public init(
        id: String, userID: Int, accountID: Int, symbol: String, direction: TradeDirection, stake: Money, leverage: Int, duration: Int,
        start: Tick, liquidationPrice: Price?, createdAt: Int64, expiresAt: Int64, status: TradeStatus = .open
    ) {
        self.id = id
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
        self.status = status
    }

    /// The trade as it was when placed: what an idempotent replay answers, as for bets (its placing
    /// fields never change).
    public var asPlaced: Trade {
        Trade(
            id: id, userID: userID, accountID: accountID, symbol: symbol, direction: direction, stake: stake, leverage: leverage,
            duration: duration, start: start, liquidationPrice: liquidationPrice, createdAt: createdAt, expiresAt: expiresAt)
    }

    /// The fields of a trade hash, in the order `TradeStore` reads them.
    public static let storedFields = [
        "user_id", "account_id", "symbol", "direction", "stake", "leverage", "duration", "start_tick", "start_price",
        "liquidation_price", "created_at", "expires_at", "status", "closed_by", "end_tick", "end_price", "profit", "payout",
        "settled_at", "void_reason",
    ]

    public init?(id: String, fields: [String?]) {
        guard fields.count == Self.storedFields.count, let userID = fields[0].flatMap({ Int($0) }),
            let accountID = fields[1].flatMap({ Int($0) }), let symbol = fields[2],
            let direction = fields[3].flatMap(TradeDirection.init(rawValue:)), let stake = fields[4].flatMap({ Int64($0) }),
            let leverage = fields[5].flatMap({ Int($0) }), let duration = fields[6].flatMap({ Int($0) }), let startTick = fields[7],
            let startPrice = fields[8].flatMap({ Int64($0) }), let createdAt = fields[10].flatMap({ Int64($0) }),
            let expiresAt = fields[11].flatMap({ Int64($0) }), let status = fields[12].flatMap(TradeStatus.init(rawValue:))
        else { return nil }
        let liquidation = fields[9].flatMap { Int64($0) }.flatMap { $0 > 0 ? Price(units: $0) : nil }
        self.init(
            id: id, userID: userID, accountID: accountID, symbol: symbol, direction: direction, stake: Money(cents: stake),
            leverage: leverage, duration: duration, start: Tick(id: startTick, price: Price(units: startPrice)),
            liquidationPrice: liquidation, createdAt: createdAt, expiresAt: expiresAt, status: status)
        closedBy = fields[13].flatMap(TradeClose.init(rawValue:))
        if let endTick = fields[14], let endPrice = fields[15].flatMap({ Int64($0) }) {
            end = Tick(id: endTick, price: Price(units: endPrice))
        }
        profit = fields[16].flatMap { Int64($0) }.map { Money(cents: $0) }
        payout = fields[17].flatMap { Int64($0) }.map { Money(cents: $0) }
        settledAt = fields[18].flatMap { Int64($0) }
        voidReason = fields[19]
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
