import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension TradeStoreTests {
    /// A pending trade is voided here; `aVoidAndAClosingTickRacingGiveExactlyOneOutcome` voids open ones.
    @Test func anAdministratorVoidsAPendingTradeAndItsStakeComesBackOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let gina = try await stores.player("gina", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "100")
            let stranded = try await stores.placed(gina.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600)
            let closing = try await stores.placed(gina.userID, "BTC", .down, 1000, leverage: 2, seconds: 3600)
            #expect(try await stores.balance(gina.userID) == Money(cents: 8000))

            guard case .voided(let voided) = try await stores.trades.void(id: stranded.id, reason: "BTC delisted") else {
                Issue.record("not voided")
                return
            }
            #expect(voided.status == .void && voided.closedBy == .void && voided.voidReason == "BTC delisted")
            #expect(voided.payout == Money(cents: 1000) && voided.profit == Money(cents: 0) && voided.end == nil)
            #expect(voided.settledAt != nil)
            // The refund is owed in the symbol's outbox, for the credit relay to apply on the owner's slot.
            #expect(try await stores.balance(gina.userID) == Money(cents: 8000))
            #expect(try await stores.owed(gina.userID) == Money(cents: 1000))
            let refunds = try await redis.xrange(Self.keys.tradeCredits("BTC")).filter { $0.fields?["type"] == "refund" }
            #expect(refunds.map { $0.fields?["trade_id"] } == [stranded.id] && refunds.first?.fields?["amount"] == "1000")
            #expect(refunds.first?.fields?["account_id"] == String(gina.accountID))
            #expect(try await redis.zscore(Self.keys.pendingTrades("BTC"), stranded.id) == nil)
            #expect(try await redis.zscore(Self.keys.dueTrades("BTC"), stranded.id) == nil)
            #expect(try await redis.zscore(Self.keys.openTrades("BTC", .up), stranded.id) == nil)
            // The owner's trade screen is told, through one feed entry naming them.
            #expect(
                try await redis.xrange(Self.keys.feed).map(\.fields) == [
                    ["type": "trades", "symbol": "BTC", "users": String(gina.userID)]
                ])
            try await stores.expectClean()

            // Voiding again changes nothing (the first reason stays); nor does a tick that would have closed it.
            guard case .notOpen(let again) = try await stores.trades.void(id: stranded.id, reason: "again") else {
                Issue.record("voided twice")
                return
            }
            #expect(again.voidReason == "BTC delisted")
            #expect(try await redis.xlen(Self.keys.feed) == 1, "a void that changed nothing tells nobody")
            // The next tick opens the other trade only.
            try await stores.open("BTC", at: "100")
            #expect(try await redis.zcard(Self.keys.dueTrades("BTC")) == 1)
            _ = try await stores.tick("BTC", "200")
            #expect(try await stores.settler.process(symbol: "BTC").stoppedOut == 1)  // the down trade only
            #expect(try await stores.trades.trade(id: stranded.id)?.status == .void)
            #expect(try await stores.trades.trade(id: closing.id)?.status == .lost)

            // A closed trade cannot be voided, and nothing moves; an unknown one is not found.
            let balance = try await stores.balance(gina.userID)
            guard case .notOpen(let closed) = try await stores.trades.void(id: closing.id, reason: "late") else {
                Issue.record("a closed trade was voided")
                return
            }
            #expect(closed.status == .lost && closed.voidReason == nil)
            #expect(try await stores.balance(gina.userID) == balance)
            #expect(try await stores.trades.void(id: "000000000000", reason: "x") == .notFound)
            #expect(try await stores.trades.void(id: "BTC~000000000000", reason: "x") == .notFound)
            try await stores.expectClean()

            // The checker sees a refund applied twice.
            for _ in 0..<2 {
                _ = try await redis.send(
                    RedisCommand(
                        "XADD", Self.keys.ledger(gina.userID), "*", "type", "refund", "account_id", String(gina.accountID), "amount",
                        "1000", "balance", "99999", "trade_id", stranded.id))
            }
            let report = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(report.count(.refundMismatch) >= 1, "\(report.violations)")
        }
    }

    @Test func aVoidAndAClosingTickRacingGiveExactlyOneOutcome() async throws {
        try await withRedis(poolSize: 8) { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 4)
            let hugo = try await stores.player("hugo", balance: Money(cents: 1_000_000))
            _ = try await stores.tick("ETH", "1000")
            var ids: [String] = []
            for _ in 0..<40 { ids.append(try await stores.placed(hugo.userID, "ETH", .up, 1000, leverage: 10, seconds: 3600).id) }
            try await stores.open("ETH", at: "1000")
            // A tick that stops out every trade, processed while an administrator voids them all.
            _ = try await stores.tick("ETH", "800")
            async let closing = stores.settler.process(symbol: "ETH")
            let voids = try await withThrowingTaskGroup(of: TradeStore.VoidOutcome.self) { group in
                for id in ids { group.addTask { try await stores.trades.void(id: id, reason: "feed lost") } }
                return try await group.reduce(into: [TradeStore.VoidOutcome]()) { $0.append($1) }
            }
            let report = try await closing
            let voided = voids.filter { if case .voided = $0 { true } else { false } }.count
            #expect(voided + report.stoppedOut == ids.count, "voided \(voided), stopped out \(report.stoppedOut)")
            let trades = try await stores.trades.trades(ids: ids)
            #expect(trades.filter { $0.status == .void }.count == voided)
            #expect(trades.filter { $0.status == .lost }.count == report.stoppedOut)
            #expect(try await stores.balance(hugo.userID) == Money(cents: 1_000_000 - 40_000))
            #expect(try await stores.owed(hugo.userID) == Money(cents: Int64(voided) * 1000))
            try await stores.expectClean()
        }
    }
}
