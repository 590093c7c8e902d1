/// An open trade parked at its closing tick because `close_trades` refused it (`Scripts.parkTrade`):
/// stored in its symbol's dead letters (`RedisKeys.tradeDeadLetters`) as
/// `<step> <tick id> <tick price> <parked at> <reason>`.
public struct TradeDeadLetter: Sendable, Equatable {
    public let tradeID: String
    public let symbol: String
    /// How the tick was closing it: at expiry or stopped out.
    public let step: TradeClose
    /// The tick it was closing at, and closes at when re-driven.
    public let tick: Tick
    /// Milliseconds since 1970 (Redis's clock).
    public let parkedAt: Int64
    /// What `close_trades` said.
    public let reason: String

    public init(tradeID: String, symbol: String, step: TradeClose, tick: Tick, parkedAt: Int64, reason: String) {
        self.tradeID = tradeID
        self.symbol = symbol
        self.step = step
        self.tick = tick
        self.parkedAt = parkedAt
        self.reason = reason
    }

    /// Nil when `stored` is not what `park_trade` writes.
    public init?(tradeID: String, symbol: String, stored: String) {
        let parts = stored.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, let step = TradeClose(rawValue: String(parts[0])), step != .void, StreamID.isValid(String(parts[1])),
            let units = Int64(parts[2]), units > 0, let parkedAt = Int64(parts[3])
        else { return nil }
        self.init(
            tradeID: tradeID, symbol: symbol, step: step, tick: Tick(id: String(parts[1]), price: Price(units: units)), parkedAt: parkedAt,
            reason: String(parts[4]))
    }
}
