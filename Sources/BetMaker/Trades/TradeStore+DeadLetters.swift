import RedisClient

/// The trades the worker parked (`TradeSettler`, `Scripts.parkTrade`): listing them, and re-driving one
/// once its cause is repaired (an administrator's call).
extension TradeStore {
    /// The dead letters of these symbols, oldest first.
    public func deadLetters(symbols: [String]) async throws -> [TradeDeadLetter] {
        var letters: [TradeDeadLetter] = []
        for symbol in symbols {
            let stored = try await redis.hgetall(keys.tradeDeadLetters(symbol))
            // Only `park_trade` writes them; one that does not read is the invariant checker's to report.
            letters += stored.compactMap { TradeDeadLetter(tradeID: $0.key, symbol: symbol, stored: $0.value) }
        }
        return letters.sorted { ($0.parkedAt, $0.tradeID) < ($1.parkedAt, $1.tradeID) }
    }

    public enum DeadLetterRetry: Sendable, Equatable {
        /// Closed at the tick it was parked at (or found closed already); the dead letter is gone.
        case closed(Trade)
        case missing
        /// `close_trades` still refuses it, for this reason; the dead letter stays.
        case notRetryable(String)
    }

    /// Closes a parked trade at the tick it was parked at, as the worker would have, and deletes its
    /// dead letter. `close_trades` checks everything again, so a cause not yet repaired refuses it with
    /// nothing written; a trade closed meanwhile is skipped, so a retry never pays twice.
    public func retryDeadLetter(tradeID id: String) async throws -> DeadLetterRetry {
        guard let tradeID = TradeID(id), let trade = try await trade(id: id) else { return .missing }
        let lettersKey = keys.tradeDeadLetters(trade.symbol)
        guard let stored = try await redis.hget(lettersKey, id) else { return .missing }
        guard let letter = TradeDeadLetter(tradeID: id, symbol: trade.symbol, stored: stored) else {
            return .notRetryable("its dead letter does not read: \(stored)")
        }
        // Whatever its hash says now: `close_trades` closes it only if it is open in both its hash and the
        // symbol's open-trade terms, and skips one closed meanwhile.
        if let start = trade.start {
            let outcome = TradeMath.outcome(
                stake: trade.stake, leverage: trade.leverage, direction: trade.direction, start: start.price, end: letter.tick.price,
                stoppedOut: letter.step == .stopOut)
            let symbol = trade.symbol
            do {
                let reply = try await redis.eval(
                    Scripts.closeTrades,
                    keys: [
                        keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down), keys.openTradeTerms(symbol),
                        keys.tradeCredits(symbol), keys.trade(tradeID),
                    ],
                    arguments: [
                        symbol, letter.tick.id, String(letter.tick.price.units), keys.prefix, letter.step.rawValue, id,
                        String(outcome.profit.cents),
                    ]
                ).array(for: "close_trades")
                if reply.count == 4, let owners = reply[3].string {
                    try await TradeFeed.append(redis: redis, keys: keys, symbol: symbol, tick: letter.tick, users: owners)
                }
            } catch let error as RedisError where error.serverCode == "BATCH_INVALID" {
                guard case .server(let refusal) = error else { throw error }
                return .notRetryable(refusal.message)
            }
        }
        _ = try await redis.send(RedisCommand("HDEL", lettersKey, id))
        guard let closed = try await self.trade(id: id) else { return .missing }
        return .closed(closed)
    }
}
