import RedisClient

/// Closes trades from the recorded ticks, per symbol, in tick order, from a durable cursor: for each
/// tick T after the symbol's cursor,
///
/// 1. the open trades whose liquidation price T reaches are stopped out (one range query per
///    direction on the open sets, O(log n + k)), except those whose start tick is not before T;
/// 2. the trades due at or before T's time are settled at T's price (T is the first recorded tick at
///    or after their expiry, since earlier ticks were processed before);
/// 3. the cursor moves to T.
///
/// Each batch is one `close_trades` call of at most `batchSize` trades, which skips trades already
/// closed. Every step can therefore run again after a crash, and two workers processing the same
/// symbol at once close each trade once, at the same tick and price: which tick closes a trade is a
/// function of the ticks alone, and the cursor only moves forward.
public struct TradeSettler: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let batchSize: Int

    public init(redis: RedisClient, keys: RedisKeys, batchSize: Int = 250) {
        self.redis = redis
        self.keys = keys
        self.batchSize = batchSize
    }

    public struct Report: Sendable, Equatable {
        public var ticks = 0
        public var stoppedOut = 0
        public var settled = 0
        public var won = 0
        public var lost = 0
        public var even = 0
        public var paidOut = Money(cents: 0)
        public var batches = 0
        /// The latest tick processed.
        public var cursor: String?

        public init() {}
    }

    /// Processes every tick of `symbol` after its cursor, at most `maximumTicks`.
    public func process(symbol: String, maximumTicks: Int = 1000) async throws -> Report {
        var report = Report()
        var cursor = try await redis.get(keys.tickCursor(symbol))
        while report.ticks < maximumTicks {
            let start = cursor.map { "(" + $0 } ?? "-"
            let entries = try await redis.xrange(keys.ticks(symbol), start: start, end: "+", count: min(100, maximumTicks - report.ticks))
            guard !entries.isEmpty else { break }
            for entry in entries {
                guard let units = entry.fields?["price"].flatMap({ Int64($0) }), units > 0 else {
                    // A tick without a price cannot close anything; it is passed over.
                    cursor = try await advance(symbol, to: entry.id)
                    continue
                }
                try await process(symbol: symbol, tick: Tick(id: entry.id, price: Price(units: units)), report: &report)
                cursor = try await advance(symbol, to: entry.id)
                report.ticks += 1
            }
        }
        report.cursor = cursor
        return report
    }

    private func advance(_ symbol: String, to tick: String) async throws -> String {
        try await redis.eval(Scripts.advanceTickCursor, keys: [keys.tickCursor(symbol)], arguments: [tick]).string(
            for: "advance_tick_cursor")
    }

    /// Steps 1 and 2 for one tick.
    func process(symbol: String, tick: Tick, report: inout Report) async throws {
        let price = String(tick.price.units)
        for direction in TradeDirection.allCases {
            let set = keys.openTrades(symbol, direction)
            // up: stopped out when the price is at or below the liquidation price; down: at or above.
            let (low, high) = direction == .up ? (price, "+inf") : ("-inf", price)
            try await closeAll(symbol: symbol, tick: tick, close: .stopOut, report: &report) { offset in
                try await redis.send(RedisCommand("ZRANGEBYSCORE", set, low, high, "LIMIT", String(offset), String(batchSize)))
                    .strings(for: "ZRANGEBYSCORE")
            }
        }
        try await closeAll(symbol: symbol, tick: tick, close: .expiry, report: &report) { offset in
            try await redis.send(
                RedisCommand("ZRANGEBYSCORE", keys.dueTrades(symbol), "-inf", String(tick.time), "LIMIT", String(offset), String(batchSize))
            ).strings(for: "ZRANGEBYSCORE")
        }
    }

    /// Closes, batch by batch, the trades `page(offset)` finds; trades it must pass over (started at
    /// or after this tick, a leverage-1 `up` trade at score 0) stay in the set, so the offset skips them.
    private func closeAll(
        symbol: String, tick: Tick, close: TradeClose, report: inout Report, page: (Int) async throws -> [String]
    ) async throws {
        var passed = 0
        var previous: [String] = []
        while true {
            let ids = try await page(passed)
            guard !ids.isEmpty else { return }
            // Only a damaged set (a closed trade left in it) could show the same page twice.
            if ids == previous {
                throw RedisError.unexpectedReply(
                    command: "ZRANGEBYSCORE", reply: "closed trades left in the sets of \(symbol): \(ids.prefix(5))")
            }
            previous = ids
            let trades = try await TradeStore(redis: redis, keys: keys, ids: BetIDGenerator(node: 0)).trades(ids: ids)
            var batch: [(Trade, TradeStatus, Money, Money)] = []
            for trade in trades {
                // Closed meanwhile (by another worker): it has left the set, so it does not move the offset.
                guard trade.status == .open else { continue }
                guard trade.symbol == symbol, Self.isBefore(trade.start.id, tick.id),
                    close == .expiry
                        || TradeMath.isStoppedOut(at: tick.price, liquidation: trade.liquidationPrice, direction: trade.direction)
                else {
                    passed += 1
                    continue
                }
                let outcome = TradeMath.outcome(
                    stake: trade.stake, leverage: trade.leverage, direction: trade.direction, start: trade.start.price, end: tick.price,
                    stoppedOut: close == .stopOut)
                batch.append((trade, outcome.status, outcome.profit, outcome.payout))
            }
            // Ids without a hash are passed over too (the invariant checker reports them).
            passed += ids.count - trades.count
            guard !batch.isEmpty else {
                if ids.count < batchSize { return }
                continue
            }
            var scriptKeys = [keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down)]
            var arguments = [symbol, tick.id, String(tick.price.units), keys.prefix]
            for (trade, status, profit, payout) in batch {
                scriptKeys += [keys.trade(trade.id), keys.accounts(trade.userID), keys.ledger(trade.userID)]
                arguments += [trade.id, close.rawValue, status.rawValue, String(profit.cents), String(payout.cents)]
            }
            let reply = try await redis.eval(Scripts.closeTrades, keys: scriptKeys, arguments: arguments).array(for: "close_trades")
            guard reply.count == 3 else { throw RedisError.unexpectedReply(command: "close_trades", reply: "\(reply)") }
            let closed = try reply[0].int(for: "close_trades")
            report.batches += 1
            report.paidOut = report.paidOut + Money(cents: Int64(try reply[2].int(for: "close_trades")))
            if close == .stopOut { report.stoppedOut += closed } else { report.settled += closed }
            if closed == batch.count {
                for (_, status, _, _) in batch {
                    switch status {
                    case .won: report.won += 1
                    case .lost: report.lost += 1
                    case .even: report.even += 1
                    case .open, .void: break
                    }
                }
            }
        }
    }

    /// Stream id `a` before `b` (`<ms>-<seq>`, compared as numbers).
    static func isBefore(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (Int64, Int64) {
            let split = id.split(separator: "-", maxSplits: 1)
            return (split.first.flatMap { Int64($0) } ?? 0, split.count > 1 ? Int64(split[1]) ?? 0 : 0)
        }
        return parts(a) < parts(b)
    }
}
