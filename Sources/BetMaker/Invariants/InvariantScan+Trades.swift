import NIOCore
import RedisClient

extension InvariantChecker {
    /// What the checker keeps of a trade between its passes.
    struct TradeRecord {
        let trade: Trade
        var stakes = 0
        var payouts = 0
        var refunds = 0
        /// Its credits (payout or refund) in its symbol's credits outbox.
        var credits = 0
    }
}

/// Trades: every trade hash and the sets that index it, the credits its symbol's outbox owes, then (from
/// the ledger pass) its stake and payout entries.
extension InvariantChecker.Scan {
    mutating func checkTrades(userIDs: [Int]) async throws {
        // Every symbol's trade hashes: `<prefix>{sym:S}:trade:<serial>`, trade id `S~<serial>`.
        var ids: [TradeID] = []
        for key in try await scanAll(keys.trade(TradeID(symbol: "*", serial: "*"))) {
            guard let (symbol, name) = symbolKey(key), name.hasPrefix("trade:"), let id = TradeID(symbol + "~" + name.dropFirst(6)) else {
                record(.invalidTrade, key, "is no trade's key")
                continue
            }
            ids.append(id)
        }
        var start = 0
        while start < ids.count {
            let page = Array(ids[start..<min(ids.count, start + checker.pageSize)])
            start += page.count
            let replies = try await redis.pipeline(page.map { RedisCommand("HMGET", arguments: [keys.trade($0)] + Trade.storedFields) })
            for (id, reply) in zip(page, replies) {
                guard let stored = try? reply.get(), let trade = try? Trade(id: id.description, stored: stored), trade.symbol == id.symbol
                else {
                    record(.invalidTrade, keys.trade(id), "has missing or malformed fields, or another symbol's terms")
                    continue
                }
                trades[trade.id] = InvariantChecker.TradeRecord(trade: trade)
                checkTradeFields(trade)
            }
        }
        try await checkTradeSets()
        try await checkOpenTradeTerms()
        try await checkTradeCredits()
        try await checkAbandonedTrades()
        for userID in userIDs { try await checkTradeList(userID) }
    }

    /// The symbol and the name of a symbol's key (`RedisKeys.symbolKey`); nil for another key.
    func symbolKey(_ key: String) -> (symbol: String, name: String)? {
        let opening = keys.prefix + "{sym:"
        guard key.hasPrefix(opening), let close = key.firstIndex(of: "}") else { return nil }
        let symbol = key[key.index(key.startIndex, offsetBy: opening.count)..<close]
        let rest = key[key.index(after: close)...]
        guard PriceStore.isValidSymbol(symbol), rest.hasPrefix(":") else { return nil }
        return (String(symbol), String(rest.dropFirst()))
    }

    /// The symbol of a symbol's key named `name`; nil for another key.
    func symbol(of key: String, _ name: String) -> String? {
        symbolKey(key).flatMap { $0.name == name ? $0.symbol : nil }
    }

    /// The key of the trade with this id, for a report.
    func tradeKey(_ id: String) -> String { TradeID(id).map { keys.trade($0) } ?? id }

    mutating func checkTradeFields(_ trade: Trade) {
        let key = tradeKey(trade.id)
        if trade.status == .open || trade.status == .pending {
            if trade.end != nil || trade.payout != nil || trade.profit != nil || trade.settledAt != nil {
                record(.invalidTrade, key, "is \(trade.status.rawValue) with an outcome")
            }
            // A pending trade has no start yet; an open one has its start, expiry and liquidation price.
            if (trade.status == .pending) != (trade.start == nil) || (trade.start == nil) != (trade.expiresAt == nil) {
                record(.invalidTrade, key, "is \(trade.status.rawValue) with start \(trade.start?.id ?? "none")")
            } else if let start = trade.start,
                trade.expiresAt != start.time + Int64(trade.duration) * 1000
                    || trade.liquidationPrice
                        != TradeMath.liquidationPrice(start: start.price, leverage: trade.leverage, direction: trade.direction)
                    || !StreamID.precedes(trade.terms.acceptedAfter, start.id)
            {
                record(.invalidTrade, key, "opened at \(start.id) with terms its start and its acceptance do not give")
            }
            report.money.stakesHeld = report.money.stakesHeld + trade.stake
            return
        }
        report.money.settledStakes = report.money.settledStakes + trade.stake
        if trade.status == .void || trade.closedBy == .void {
            if trade.status != .void || trade.closedBy != .void || trade.end != nil || trade.payout != trade.stake
                || trade.profit?.cents != 0 || trade.settledAt == nil
            {
                record(
                    .invalidTrade, key,
                    "is \(trade.status.rawValue), closed by \(trade.closedBy?.rawValue ?? "nothing"): "
                        + "a void trade has no end tick, profit 0 and its stake as payout")
            }
            return
        }
        guard let payout = trade.payout, let profit = trade.profit, let end = trade.end, let closedBy = trade.closedBy,
            trade.settledAt != nil, let start = trade.start, let expiresAt = trade.expiresAt
        else {
            record(.invalidTrade, key, "is \(trade.status.rawValue) without its start or end tick, profit, payout or settled_at")
            return
        }
        let expected: TradeStatus = profit.cents > 0 ? .won : profit.cents < 0 ? .lost : .even
        if payout != trade.stake + profit || payout.cents < 0 || trade.status != expected {
            record(.invalidTrade, key, "is \(trade.status.rawValue) with stake \(trade.stake), profit \(profit), payout \(payout)")
        }
        if !StreamID.precedes(start.id, end.id) {
            record(.invalidTrade, key, "ends at tick \(end.id), not after its start tick \(start.id)")
        }
        switch closedBy {
        case .stopOut:
            if payout.cents != 0
                || !TradeMath.isStoppedOut(at: end.price, liquidation: trade.liquidationPrice, direction: trade.direction)
            {
                record(.invalidTrade, key, "is stopped out at \(end.price) with payout \(payout)")
            }
        case .void:
            break  // handled above
        case .expiry:
            let outcome = TradeMath.outcome(
                stake: trade.stake, leverage: trade.leverage, direction: trade.direction, start: start.price, end: end.price,
                stoppedOut: false)
            if end.time < expiresAt || outcome.payout != payout {
                record(.invalidTrade, key, "settled at tick \(end.id) for \(payout); the tick and TradeMath say \(outcome.payout)")
            }
        }
    }

    /// Every pending trade is in its symbol's pending set (scored by the time of the tick it was
    /// accepted after); every open trade is in its symbol's due set (scored by expiry) and in the open
    /// set of its direction (scored by liquidation price), unless it is parked with a dead letter; every
    /// member of those sets is such a trade, and every dead letter names an open trade of its symbol.
    mutating func checkTradeSets() async throws {
        let parked = try await parkedTrades()
        var expected: [String: [String: Int64]] = [:]
        for (id, record) in trades where !parked.contains(id) {
            let trade = record.trade
            if trade.status == .pending {
                expected[keys.pendingTrades(trade.symbol), default: [:]][id] =
                    StreamID.milliseconds(trade.terms.acceptedAfter)
            } else if trade.status == .open {
                expected[keys.dueTrades(trade.symbol), default: [:]][id] = trade.expiresAt ?? 0
                expected[keys.openTrades(trade.symbol, trade.direction), default: [:]][id] = trade.liquidationPrice?.units ?? 0
            }
        }
        var setKeys = Set(expected.keys)
        for pattern in [keys.pendingTrades("*"), keys.dueTrades("*"), keys.openTrades("*", .up), keys.openTrades("*", .down)] {
            setKeys.formUnion(try await scanAll(pattern))
        }
        for set in setKeys.sorted() {
            let members: [String]
            do {
                members = try await redis.send(RedisCommand("ZRANGE", set, "0", "-1", "WITHSCORES")).strings(for: "ZRANGE")
            } catch {
                record(.wrongType, set, "cannot be read as a sorted set: \(error)")
                continue
            }
            var wanted = expected[set] ?? [:]
            for index in stride(from: 0, to: members.count - 1, by: 2) {
                let id = members[index]
                guard let score = wanted.removeValue(forKey: id) else {
                    record(.tradeIndexMismatch, set, "holds \(id), which is not a trade of this set")
                    continue
                }
                if Int64(members[index + 1]) != score {
                    record(.tradeIndexMismatch, set, "scores \(id) \(members[index + 1]), not \(score)")
                }
            }
            for id in wanted.keys.sorted() { record(.tradeIndexMismatch, set, "misses the trade \(id)") }
        }
    }

    /// The trades parked with a dead letter (`RedisKeys.tradeDeadLetters`); a letter naming no open
    /// trade of its symbol is reported.
    mutating func parkedTrades() async throws -> Set<String> {
        var parked = Set<String>()
        for key in try await scanAll(keys.tradeDeadLetters("*")).sorted() {
            guard let symbol = symbol(of: key, "trades:dead") else { continue }
            let letters: [String: String]
            do {
                letters = try await redis.hgetall(key)
            } catch {
                record(.wrongType, key, "cannot be read as a hash: \(error)")
                continue
            }
            for (id, stored) in letters.sorted(by: { $0.key < $1.key }) {
                guard let trade = trades[id]?.trade, trade.status == .open, trade.symbol == symbol else {
                    record(.tradeIndexMismatch, key, "parks \(id), which is not an open trade of \(symbol): re-drive it to clear it")
                    continue
                }
                if TradeDeadLetter(tradeID: id, symbol: symbol, stored: stored) == nil {
                    record(.tradeIndexMismatch, key, "holds an unreadable dead letter for \(id): \(stored)")
                }
                parked.insert(id)
            }
        }
        return parked
    }

    /// Each entry of a symbol's open-trade terms (`RedisKeys.openTradeTerms`) is an open trade of that
    /// symbol with exactly these terms: `close_trades` takes an entry as the trade being open. An open
    /// trade may be missing there (placed before the open-trade terms existed).
    mutating func checkOpenTradeTerms() async throws {
        for key in try await scanAll(keys.openTradeTerms("*")).sorted() {
            guard let symbol = symbol(of: key, "trades:terms") else { continue }
            var cursor = "0"
            repeat {
                let reply: [RESPValue]
                do {
                    reply = try await redis.send(RedisCommand("HSCAN", key, cursor, "COUNT", String(checker.pageSize))).array(for: "HSCAN")
                } catch {
                    record(.wrongType, key, "cannot be read as a hash: \(error)")
                    break
                }
                guard reply.count == 2, let next = reply[0].string else {
                    throw RedisError.unexpectedReply(command: "HSCAN", reply: "\(reply)")
                }
                cursor = next
                let pairs = try reply[1].array(for: "HSCAN")
                for index in stride(from: 0, to: pairs.count - 1, by: 2) {
                    let id = try pairs[index].string(for: "HSCAN")
                    guard case .bulkString(let entry) = pairs[index + 1] else { throw pairs[index + 1].unexpected("HSCAN") }
                    guard let trade = trades[id]?.trade, trade.status == .open, trade.symbol == symbol else {
                        record(.tradeIndexMismatch, key, "holds \(id), which is not an open trade of \(symbol)")
                        continue
                    }
                    let terms = Trade.Terms(encoded: entry)
                    if terms != trade.terms {
                        let found = terms.map { "\($0)" } ?? "unreadable"
                        record(.tradeIndexMismatch, key, "holds terms for \(id) that are not the trade's: \(found)")
                    }
                }
            } while cursor != "0"
        }
    }

    /// The user's list holds each of their trades exactly once, and nobody else's.
    mutating func checkTradeList(_ userID: Int) async throws {
        let list = keys.userTrades(userID)
        var seen = Set<String>()
        var position = 0
        while true {
            let entries = try await redis.lrange(list, position, position + checker.pageSize - 1)
            guard !entries.isEmpty else { break }
            position += entries.count
            for id in entries {
                // The list names a trade from its hold on: one pending or voided never came to be.
                if trades[id] == nil, try await isHeldOrVoided(id, userID: userID) { continue }
                if trades[id]?.trade.userID != userID {
                    record(.tradeIndexMismatch, list, "holds \(id), which is not a trade of user \(userID)")
                } else if !seen.insert(id).inserted {
                    record(.tradeIndexMismatch, list, "holds \(id) twice")
                }
            }
        }
        for (id, record) in trades where record.trade.userID == userID && !seen.contains(id) {
            self.record(.tradeIndexMismatch, list, "misses the trade \(id)")
        }
    }

    mutating func checkTradeStake(_ transaction: Transaction, entryID: String, userID: Int) {
        guard let id = transaction.tradeID, var trade = trades[id], trade.trade.userID == userID,
            trade.trade.accountID == transaction.accountID, trade.trade.stake.cents == -transaction.amount.cents
        else {
            record(
                .stakeMismatch, keys.ledger(userID),
                "stake \(entryID) of \(transaction.amount) for trade \(transaction.tradeID ?? "none") matches no trade of user \(userID)")
            return
        }
        trade.stakes += 1
        trades[id] = trade
    }

    mutating func checkTradePayout(_ transaction: Transaction, entryID: String, userID: Int) {
        guard let id = transaction.tradeID, var trade = trades[id], trade.trade.userID == userID,
            trade.trade.accountID == transaction.accountID, trade.trade.status != .open, trade.trade.status != .pending,
            trade.trade.payout == transaction.amount
        else {
            record(
                .payoutMismatch, keys.ledger(userID),
                "payout \(entryID) of \(transaction.amount) for trade \(transaction.tradeID ?? "none") matches no closed trade of user \(userID)"
            )
            return
        }
        trade.payouts += 1
        trades[id] = trade
    }

    /// A refund entry: the stake of a void trade of this user and account, given back.
    mutating func checkTradeRefund(_ transaction: Transaction, entryID: String, userID: Int) {
        guard let id = transaction.tradeID, var trade = trades[id], trade.trade.userID == userID,
            trade.trade.accountID == transaction.accountID, trade.trade.status == .void, trade.trade.stake == transaction.amount
        else {
            record(
                .refundMismatch, keys.ledger(userID),
                "refund \(entryID) of \(transaction.amount) for trade \(transaction.tradeID ?? "none") matches no void trade of user \(userID)"
            )
            return
        }
        trade.refunds += 1
        trades[id] = trade
    }

    /// One stake entry per trade. A closed trade that pays anything and a void trade owe one credit
    /// (payout, refund): its ledger entry once applied, or owed in the symbol's outbox until then, never
    /// both; the outbox holds at most one credit a trade.
    mutating func checkTradesInLedgers() {
        for (id, record) in trades.sorted(by: { $0.key < $1.key }) {
            let key = tradeKey(id)
            if record.stakes != 1 {
                self.record(.stakeMismatch, key, "has \(record.stakes) stake entries, not one")
            }
            let void = record.trade.status == .void
            let paying = !void && (record.trade.payout?.cents ?? 0) > 0
            let owed = owedTrades[id] ?? 0
            let due = void ? record.trade.stake.cents : paying ? record.trade.payout?.cents ?? 0 : 0
            if record.credits > (due > 0 ? 1 : 0) {
                self.record(void ? .refundMismatch : .payoutMismatch, key, "has \(record.credits) credits in its symbol's outbox")
            }
            if record.refunds + (void && owed > 0 ? 1 : 0) != (void ? 1 : 0) || (void && owed > 0 && owed != due) {
                self.record(
                    .refundMismatch, key, "is \(record.trade.status.rawValue) with \(record.refunds) refund entries and \(owed) owed")
            }
            if record.payouts + (paying && owed > 0 ? 1 : 0) != (paying ? 1 : 0) || (!void && owed != 0 && owed != due) {
                self.record(
                    .payoutMismatch, key, "is \(record.trade.status.rawValue) with \(record.payouts) payout entries and \(owed) owed")
            }
        }
    }
}
