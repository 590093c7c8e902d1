import RedisClient

/// Step 0 of a tick: the symbol's pending trades accepted before it open at it. A trade is accepted
/// after the tick that was the symbol's latest then (`Trade.Terms.acceptedAfter`), and every tick after
/// that one is recorded after the acceptance, so the first of them is the first price nobody could
/// know when the trade was accepted (docs/decisions/0294-trades-open-at-the-next-tick.md). Ticks are
/// processed in order, so a pending trade meets its first tick before any other.
extension TradeSettler {
    func openPending(symbol: String, tick: Tick, report: inout Report) async throws {
        while try await openPass(symbol: symbol, tick: tick, report: &report) {}
    }

    /// One pass over the symbol's pending set, page by page; returns whether it sent any trade to open.
    /// A page's trades that are not sent stay in the set, so the next page's offset steps over them;
    /// one opened or voided meanwhile by someone else left it, so the offset may then step over a
    /// pending trade: the next pass, which runs until a pass sends nothing, finds it. A trade must not
    /// be left pending past its first tick, which moves the cursor on.
    private func openPass(symbol: String, tick: Tick, report: inout Report) async throws -> Bool {
        let pending = keys.pendingTrades(symbol)
        // The set's score is the time of the tick each trade was accepted after. A trade accepted after
        // this tick (while the worker was on its way to it) scores its time, and is not read: unless an
        // earlier tick shares its millisecond (a sequence above 0), only lower scores can open at it.
        let latest = tick.id.hasSuffix("-0") ? "(" + String(tick.time) : String(tick.time)
        var kept = 0
        var sentAny = false
        while true {
            let ids = try await redis.send(
                RedisCommand("ZRANGEBYSCORE", pending, "-inf", latest, "LIMIT", String(kept), String(batchSize))
            ).strings(for: "ZRANGEBYSCORE")
            guard !ids.isEmpty else { return sentAny }
            // An id that is not this symbol's trade id names no hash here: it stays (the checker reports it).
            var candidates: [(id: String, tradeID: TradeID)] = []
            for id in ids {
                if let tradeID = TradeID(id), tradeID.symbol == symbol { candidates.append((id, tradeID)) } else { kept += 1 }
            }
            let replies =
                candidates.isEmpty
                ? []
                : try await redis.pipeline(candidates.map { RedisCommand("HMGET", keys.trade($0.tradeID), "status", Trade.Terms.field) })
            var tradeKeys: [String] = []
            var arguments = [symbol, tick.id, String(tick.price.units), keys.prefix]
            for ((id, tradeID), reply) in zip(candidates, replies) {
                // Not pending (opened or voided meanwhile), accepted after a tick of this one's millisecond,
                // or a hash or terms that do not read (the invariant checker reports those): not sent.
                guard let fields = try? reply.get().array(for: "HMGET"), fields.count == 2, fields[0].string == "pending",
                    case .bulkString(let bytes) = fields[1], let terms = Trade.Terms(encoded: bytes), terms.symbol == symbol,
                    StreamID.precedes(terms.acceptedAfter, tick.id)
                else {
                    kept += 1
                    continue
                }
                tradeKeys.append(keys.trade(tradeID))
                let liquidation = TradeMath.liquidationPrice(start: tick.price, leverage: terms.leverage, direction: terms.direction)
                arguments += [id, String(liquidation?.units ?? 0)]
            }
            if !tradeKeys.isEmpty {
                let setKeys = [
                    pending, keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down),
                    keys.openTradeTerms(symbol), keys.ticks(symbol),
                ]
                let reply = try await redis.eval(Scripts.openTrades, keys: setKeys + tradeKeys, arguments: arguments)
                    .array(for: "open_trades")
                guard reply.count == 3 else { throw RedisError.unexpectedReply(command: "open_trades", reply: "\(reply)") }
                report.opened += try reply[0].int(for: "open_trades")
                try await TradeFeed.append(
                    redis: redis, keys: keys, symbol: symbol, tick: tick, users: try reply[2].string(for: "open_trades"))
                sentAny = true
            }
            if ids.count < batchSize { return sentAny }
        }
    }
}
