import RedisClient

/// One bad trade does not stop its symbol: a `close_trades` call refused (`BATCH_INVALID`) is sent
/// again trade by trade; a trade refused on its own is parked with a dead letter (`Scripts.parkTrade`)
/// and the others close. A refusal that names no trade (the symbol's sets or the feed are damaged)
/// still stops the symbol: parking its trades one by one would only hide it.
extension TradeSettler {
    func settle(_ batch: Batch, _ submitted: SubmittedBatch, symbol: String, tick: Tick, report: inout Report) async throws {
        do {
            let owners = try batch.account(try await reply(of: batch, submitted), in: &report)
            try await TradeFeed.append(redis: redis, keys: keys, symbol: symbol, tick: tick, users: owners)
        } catch let error as RedisError where error.serverCode == "BATCH_INVALID" {
            for member in batch.members {
                var single = Batch(close: batch.close, setKeys: batch.setKeys, arguments: Array(batch.arguments.prefix(5)))
                single.append(member.trade, member.outcome, keys: keys)
                let id = member.trade.id.description
                do {
                    let reply = try await redis.eval(Scripts.closeTrades, keys: single.keys, arguments: single.arguments)
                    let owners = try single.account(try reply.array(for: "close_trades"), in: &report)
                    try await TradeFeed.append(redis: redis, keys: keys, symbol: symbol, tick: tick, users: owners)
                } catch let error as RedisError where error.serverCode == "BATCH_INVALID" {
                    guard let reason = Self.reason(error, naming: id) else { throw error }
                    try await park(id, symbol: symbol, step: batch.close, tick: tick, reason: reason, report: &report)
                }
            }
        }
    }

    /// What a `BATCH_INVALID` says about this trade (`trade <id> <reason>`); nil when it names none.
    static func reason(_ error: RedisError, naming id: String) -> String? {
        guard case .server(let refusal) = error, refusal.message.hasPrefix("trade \(id) ") else { return nil }
        return String(refusal.message.dropFirst("trade \(id) ".count))
    }

    private func park(_ id: String, symbol: String, step: TradeClose, tick: Tick, reason: String, report: inout Report) async throws {
        let reply = try await redis.eval(
            Scripts.parkTrade,
            keys: [
                keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down), keys.openTradeTerms(symbol),
                keys.tradeDeadLetters(symbol),
            ],
            arguments: [id, step.rawValue, tick.id, String(tick.price.units), reason, symbol, keys.prefix]
        ).strings(for: "park_trade")
        guard reply.first == "parked" else { return }
        report.parked.append(
            TradeDeadLetter(tradeID: id, symbol: symbol, step: step, tick: tick, parkedAt: currentMilliseconds(), reason: reason))
    }
}
