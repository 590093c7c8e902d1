import NIOCore
import RedisClient

/// Opens and closes trades from the recorded ticks, per symbol, in tick order, from a durable cursor:
/// for each tick T after the symbol's cursor,
///
/// 0. the pending trades accepted before T open at T (`TradeSettler+Opening`);
/// 1. the open trades whose liquidation price T reaches are stopped out (one range query per
///    direction on the open sets, O(log n + k)), except those whose start tick is not before T;
/// 2. the trades due at or before T's time are settled at T's price (T is the first recorded tick at
///    or after their expiry, since earlier ticks were processed before);
/// 3. the cursor moves to T.
///
/// Each batch is one `close_trades` call of at most `batchSize` trades, which skips trades already
/// closed; a trade it refuses is parked with a dead letter and the others close (`TradeSettler+Parking`). Every step can therefore run again after a crash, and two workers processing the same
/// symbol at once close each trade once, at the same tick and price: which tick closes a trade is a
/// function of the ticks alone, and the cursor only moves forward.
public struct TradeSettler: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let batchSize: Int

    /// `TRADE_BATCH_SIZE`'s default: with scripts running back to back, calls of 250 trades reached 10-15
    /// ms in Redis's slow log and calls of 200 still 10.85 ms; calls of 150 take about 3 ms.
    public static let defaultBatchSize = 150

    public init(redis: RedisClient, keys: RedisKeys, batchSize: Int = TradeSettler.defaultBatchSize) {
        self.redis = redis
        self.keys = keys
        self.batchSize = batchSize
    }

    public struct Report: Sendable, Equatable {
        public var ticks = 0
        public var opened = 0
        public var stoppedOut = 0
        public var settled = 0
        public var won = 0
        public var lost = 0
        public var even = 0
        public var paidOut = Money(cents: 0)
        public var batches = 0
        /// The latest tick processed.
        public var cursor: String?
        /// The trades `close_trades` refused, parked with a dead letter.
        public var parked: [TradeDeadLetter] = []

        public init() {}
    }

    /// Processes every tick of `symbol` after its cursor, at most `maximumTicks`.
    public func process(symbol: String, maximumTicks: Int = 1000) async throws -> Report {
        var report = Report()
        var cursor = try await redis.get(keys.tickCursor(symbol))
        var loaded = false
        while report.ticks < maximumTicks {
            let start = cursor.map { "(" + $0 } ?? "-"
            let entries = try await redis.xrange(keys.ticks(symbol), start: start, end: "+", count: min(100, maximumTicks - report.ticks))
            guard !entries.isEmpty else { break }
            // Scripts go out by SHA1 behind reads planned around them: one Redis does not know would not
            // run in its place, and the pages after it would be read at the wrong offsets. Asked once
            // there is a tick to process, not on every idle poll.
            if !loaded, try await !redis.scriptsExist([Scripts.closeTrades]) { try await redis.load([Scripts.closeTrades]) }
            loaded = true
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

    /// Steps 0, 1 and 2 for one tick.
    func process(symbol: String, tick: Tick, report: inout Report) async throws {
        try await openPending(symbol: symbol, tick: tick, report: &report)
        let price = String(tick.price.units)
        for direction in TradeDirection.allCases {
            let set = keys.openTrades(symbol, direction)
            // up: stopped out when the price is at or below the liquidation price; down: at or above.
            let (low, high) = direction == .up ? (price, "+inf") : ("-inf", price)
            try await closeAll(symbol: symbol, tick: tick, close: .stopOut, report: &report) { offset, count in
                RedisCommand("ZRANGEBYSCORE", set, low, high, "LIMIT", String(offset), String(count))
            }
        }
        let due = keys.dueTrades(symbol)
        try await closeAll(symbol: symbol, tick: tick, close: .expiry, report: &report) { offset, count in
            RedisCommand("ZRANGEBYSCORE", due, "-inf", String(tick.time), "LIMIT", String(offset), String(count))
        }
    }

    /// Closes, batch by batch, the trades `page(offset, count)` finds, in passes over the set until a
    /// pass finds nothing to close. Trades a pass must leave (started at or after this tick, a
    /// leverage-1 `up` trade at score 0, a trade without a hash) stay in the set, so the offset skips them.
    private func closeAll(
        symbol: String, tick: Tick, close: TradeClose, report: inout Report, page: (_ offset: Int, _ count: Int) -> RedisCommand
    ) async throws {
        while try await closePass(symbol: symbol, tick: tick, close: close, report: &report, page: page) {}
    }

    /// One pass, with Redis never waiting for this process: everything goes on one connection, in the
    /// order submitted, and a page's terms (one `HMGET` of the symbol's open-trade terms) and the next
    /// page's ids are read before the previous page's scripts are sent, so they are here when those
    /// scripts finish. The next page's offset therefore counts the trades of the two pages not yet
    /// closed; it is exact unless someone else removes one of them meanwhile (a second worker, a void),
    /// and then a page may skip trades: the next pass, from offset 0 with nothing in flight, finds
    /// them. Returns whether it sent any trade to close.
    private func closePass(
        symbol: String, tick: Tick, close: TradeClose, report: inout Report, page: (_ offset: Int, _ count: Int) -> RedisCommand
    ) async throws -> Bool {
        let pageSize = batchSize * Self.pipelineDepth
        let connection = try await redis.connection(forKey: keys.openTradeTerms(symbol))
        // A page's terms are one `HMGET` of the symbol's open-trade terms.
        func readTerms(_ ids: [String], then next: RedisCommand?) -> SubmittedBatch {
            var commands = [RedisCommand("HMGET", arguments: [keys.openTradeTerms(symbol)] + ids)]
            if let next { commands.append(next) }
            return connection.submit(commands)
        }
        let firstIDs = try await connection.submit([page(0, pageSize)]).replies()[0].get().strings(for: "ZRANGEBYSCORE")
        guard !firstIDs.isEmpty else { return false }
        // Trades of the pages already sent that stay in the set.
        var kept = 0
        var current = firstIDs
        var next: [String] = []
        var reads = readTerms(current, then: current.count == pageSize ? page(current.count, pageSize) : nil)
        var sentAny = false
        var pageNumber = 0
        var inFlight: [(page: Int, batch: Batch, reply: SubmittedBatch)] = []
        while true {
            pageNumber += 1
            let replies = try await reads.replies()
            let (trades, unreadable) = try openTrades(ids: current, terms: replies[0])
            next = replies.count > 1 ? try replies[1].get().strings(for: "ZRANGEBYSCORE") : []
            if !next.isEmpty {
                // Before this page's scripts: the set still holds this page and the next one.
                let after = next.count == pageSize ? page(kept + current.count + next.count, pageSize) : nil
                reads = readTerms(next, then: after)
            }
            kept += unreadable
            for start in stride(from: 0, to: trades.count, by: batchSize) {
                var batch = Batch(
                    close: close,
                    setKeys: [
                        keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down), keys.openTradeTerms(symbol),
                        keys.tradeCredits(symbol),
                    ],
                    arguments: [symbol, tick.id, String(tick.price.units), keys.prefix, close.rawValue])
                for trade in trades[start..<min(start + batchSize, trades.count)] {
                    let terms = trade.terms
                    guard terms.symbol == symbol, trade.id.symbol == symbol, let start = terms.start, StreamID.precedes(start.id, tick.id),
                        close == .expiry
                            || TradeMath.isStoppedOut(at: tick.price, liquidation: terms.liquidationPrice, direction: terms.direction)
                    else {
                        kept += 1
                        continue
                    }
                    let outcome = TradeMath.outcome(
                        stake: terms.stake, leverage: terms.leverage, direction: terms.direction, start: start.price,
                        end: tick.price, stoppedOut: close == .stopOut)
                    batch.append(trade, outcome, keys: keys)
                }
                guard !batch.isEmpty else { continue }
                let command = Scripts.closeTrades.evalshaCommand(keys: batch.keys, arguments: batch.arguments)
                inFlight.append((pageNumber, batch, connection.submit([command])))
                sentAny = true
            }
            // The scripts of the page before the previous one ran before the reads just answered.
            while let first = inFlight.first, next.isEmpty || first.page < pageNumber - 1 {
                inFlight.removeFirst()
                try await settle(first.batch, first.reply, symbol: symbol, tick: tick, report: &report)
            }
            if next.isEmpty { return sentAny }
            current = next
        }
    }

    /// A script's reply; one refused as unknown (`NOSCRIPT`: Redis restarted) did not run, and runs
    /// again through `eval`, which loads it.
    func reply(of batch: Batch, _ submitted: SubmittedBatch) async throws -> [RESPValue] {
        do {
            return try await submitted.replies()[0].get().array(for: "close_trades")
        } catch let error as RedisError where error.serverCode == "NOSCRIPT" {
            return try await redis.eval(Scripts.closeTrades, keys: batch.keys, arguments: batch.arguments).array(for: "close_trades")
        }
    }

    /// Batches of a page: many enough that reading a page is a small part of closing it, few enough
    /// that a page's terms stay small.
    static let pipelineDepth = 4

    /// One `close_trades` call's trades, keys and arguments, and the statuses to count once it answers.
    struct Batch: Sendable {
        let close: TradeClose
        /// The symbol's sets, open-trade terms and credits outbox, then each trade's hash.
        let setKeys: [String]
        var tradeKeys: [String] = []
        /// The symbol's, then each trade's id and profit.
        var arguments: [String]
        var statuses: [TradeStatus] = []
        /// Each trade and its outcome, to send them one by one when the call is refused.
        var members: [(trade: OpenTrade, outcome: (status: TradeStatus, profit: Money, payout: Money))] = []
        var isEmpty: Bool { statuses.isEmpty }
        /// The call's KEYS, in the order `close_trades` takes them.
        var keys: [String] { setKeys + tradeKeys }

        mutating func append(
            _ trade: OpenTrade, _ outcome: (status: TradeStatus, profit: Money, payout: Money), keys redisKeys: RedisKeys
        ) {
            tradeKeys.append(redisKeys.trade(trade.id))
            arguments += [trade.id.description, String(outcome.profit.cents)]
            statuses.append(outcome.status)
            members.append((trade, outcome))
        }

        /// Counts the reply in `report`; returns the owners of the trades closed, comma-separated, for
        /// the live feed.
        func account(_ reply: [RESPValue], in report: inout Report) throws -> String {
            guard reply.count == 4 else { throw RedisError.unexpectedReply(command: "close_trades", reply: "\(reply)") }
            let owners = try reply[3].string(for: "close_trades")
            let closed = try reply[0].int(for: "close_trades")
            report.batches += 1
            report.paidOut = report.paidOut + Money(cents: Int64(try reply[2].int(for: "close_trades")))
            if close == .stopOut { report.stoppedOut += closed } else { report.settled += closed }
            // Trades skipped as closed already were counted by whoever closed them.
            guard closed == statuses.count else { return owners }
            for status in statuses {
                switch status {
                case .won: report.won += 1
                case .lost: report.lost += 1
                case .even: report.even += 1
                case .pending, .open, .void: break
                }
            }
            return owners
        }
    }

    /// What closing needs of an open trade: its terms (not the fields a `Trade` reads), from the
    /// symbol's open-trade terms, which hold a trade exactly while it is open. The terms never change,
    /// so reading them before the script is safe; the script re-checks that the trade is open and what
    /// the outcome depends on.
    struct OpenTrade: Sendable {
        let id: TradeID
        let terms: Trade.Terms
    }

    /// The open trades among these ids, from the page's `HMGET` of the symbol's open-trade terms (`terms`,
    /// in the ids' order), and how many have terms that do not read: those stay in the due set (the
    /// invariant checker reports them). A trade that is not there was closed meanwhile, and left the set.
    private func openTrades(ids: [String], terms: Result<RESPValue, RedisError>) throws -> (trades: [OpenTrade], unreadable: Int) {
        let entries = try terms.get().array(for: "HMGET")
        guard entries.count == ids.count else {
            throw RedisError.unexpectedReply(command: "HMGET", reply: "\(entries.count) for \(ids.count)")
        }
        var trades: [OpenTrade] = []
        var unreadable = 0
        for (id, entry) in zip(ids, entries) {
            guard case .bulkString(let bytes) = entry else { continue }
            guard let terms = Trade.Terms(encoded: bytes), let id = TradeID(id) else {
                unreadable += 1
                continue
            }
            trades.append(OpenTrade(id: id, terms: terms))
        }
        return (trades, unreadable)
    }
}
