import RedisClient

/// Trades' money across slots: the credits in the symbols' outboxes (`RedisKeys.tradeCredits`) against
/// their trades, and the trade ids the reconciler abandoned. What the outboxes still owe is counted with
/// every other outbox's (`InvariantScan+Holds.swift`).
extension InvariantChecker.Scan {
    /// Every entry of a symbol's credits outbox (`RedisKeys.tradeCredits`), applied or not, is the credit a
    /// trade of that symbol owes: the payout of a closed trade that pays, or the stake of a void one, to
    /// its owner's account; at most one a trade. Read in pages; counted per trade for the ledger pass.
    mutating func checkTradeCredits() async throws {
        for key in try await scanAll(keys.tradeCredits("*")).sorted() {
            guard let symbol = symbol(of: key, "credits") else { continue }
            var after = "-"
            while true {
                let entries: [StreamEntry]
                do {
                    entries = try await redis.xrange(key, start: after, count: checker.pageSize)
                } catch {
                    record(.wrongType, key, "cannot be read as a stream: \(error)")
                    break
                }
                guard !entries.isEmpty else { break }
                after = "(" + entries[entries.count - 1].id
                for entry in entries { checkTradeCredit(entry, in: key, symbol: symbol) }
            }
        }
    }

    private mutating func checkTradeCredit(_ entry: StreamEntry, in key: String, symbol: String) {
        let fields = entry.fields ?? [:]
        let id = fields["trade_id"] ?? "none"
        let amount = fields["amount"].flatMap { Int64($0) }.map { Money(cents: $0) }
        guard var record = trades[id], record.trade.symbol == symbol, fields["credit_id"] == "trade:" + id,
            fields["user_id"] == String(record.trade.userID),
            fields["account_id"] == String(record.trade.accountID)
        else {
            self.record(.creditMismatch, key, "holds credit \(entry.id) for trade \(id), which is no trade of \(symbol) and its owner")
            return
        }
        let trade = record.trade
        switch fields["type"] {
        case "payout"
        where trade.status != .void && trade.status != .open && trade.status != .pending && amount == trade.payout
            && (amount?.cents ?? 0) > 0:
            break
        case "refund" where trade.status == .void && amount == trade.stake:
            break
        default:
            self.record(
                .creditMismatch, key,
                "holds credit \(entry.id), \(fields["type"] ?? "no type") of \(fields["amount"] ?? "nothing"), which trade \(id) "
                    + "(\(trade.status.rawValue)) does not owe")
            return
        }
        record.credits += 1
        trades[id] = record
    }

    /// A trade id the reconciler recorded as abandoned (its hold voided) names no trade: `place_trade`
    /// refuses it.
    mutating func checkAbandonedTrades() async throws {
        for key in try await scanAll(keys.abandonedTrades("*")).sorted() {
            guard let symbol = symbol(of: key, "trades:abandoned") else { continue }
            let ids: [String]
            do {
                ids = try await redis.send(RedisCommand("HKEYS", key)).strings(for: "HKEYS")
            } catch {
                record(.wrongType, key, "cannot be read as a hash: \(error)")
                continue
            }
            for id in ids.sorted() where trades[id] != nil || TradeID(id)?.symbol != symbol {
                record(.invalidTrade, key, "holds \(id) as abandoned, but it is a trade of \(symbol) or no id of one")
            }
        }
    }
}
