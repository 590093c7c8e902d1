import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Issue 28, points 4 and 10: the trade scripts check what they are sent and everything their writes
/// need before the first write, so a refused call leaves nothing behind.
extension TradeStoreTests {
    static func isRefusal(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return false }
        return error.serverCode != nil
    }

    /// Point 4: a trade listed twice in one call is refused, not paid twice.
    @Test func closeTradesRefusesATradeListedTwice() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 10, seconds: 3600, at: "50000")
            let crash = try await stores.tick("BTC", "45000")
            let before = try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            await #expect {
                try await Self.closeTrades(redis, "stop_out", at: crash, [(trade.id, -1000), (trade.id, -1000)])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID" && "\(error)".contains("twice")
            }
            #expect(try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == before)
            // A winning trade listed twice would be paid twice: refused too.
            let winner = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 2, seconds: 1, at: "45000")
            #expect(await eventually { currentMilliseconds() > (winner.expiresAt ?? 0) + 1 })
            let end = try await stores.tick("BTC", "45450")
            let beforeWin = try await Self.snapshot(stores, trades: [winner], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            await #expect {
                try await Self.closeTrades(redis, "expiry", at: end, [(winner.id, 20), (winner.id, 20)])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID"
            }
            #expect(try await Self.snapshot(stores, trades: [winner], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == beforeWin)
        }
    }

    /// Point 4: a profit is bounded on both sides by the stored terms and the tick: a profit larger than
    /// they give is refused (as a loss beyond the stake was), and so is one smaller than they give.
    @Test func closeTradesRefusesAProfitTheTermsDoNotGive() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 10, seconds: 1, at: "50000")
            #expect(await eventually { currentMilliseconds() > (trade.expiresAt ?? 0) + 1 })
            // +1 %: 10.00 × 10 × 1 % = 1.00 exactly.
            let start = try #require(trade.start)
            let end = try await stores.tick("BTC", String(describing: Price(units: start.price.units / 100 * 101)))
            let before = try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            for profit: Int64 in [1_000_000, 101, 99, -5] {
                await #expect {
                    try await Self.closeTrades(redis, "expiry", at: end, [(trade.id, profit)])
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
                #expect(
                    try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == before,
                    "profit \(profit)")
            }
            #expect(try await Self.closeTrades(redis, "expiry", at: end, [(trade.id, 100)]).counts == [1, 0, 1100])
            try await stores.expectClean()
        }
    }

    /// Point 10: `place_trade` checks the ledger before it debits: a ledger that takes no entry refuses
    /// the trade with nothing debited and nothing written.
    @Test func placeTradeWithALedgerThatTakesNoEntryChangesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let ledger = Self.keys.ledger(hana.userID)
            _ = try await redis.send(RedisCommand("RENAME", ledger, ledger + ":kept"))
            _ = try await redis.set(ledger, to: "not a ledger")
            await #expect {
                try await stores.place(hana.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600)
            } throws: { Self.isRefusal($0) }
            #expect(try await stores.balance(hana.userID) == Money(cents: 10_000))
            #expect(try await redis.lrange(Self.keys.userTrades(hana.userID), 0, -1).isEmpty)
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 0)
            _ = try await redis.send(RedisCommand("DEL", ledger))
            _ = try await redis.send(RedisCommand("RENAME", ledger + ":kept", ledger))
            try await stores.expectClean()
        }
    }

    /// Point 10: `void_trade` checks the symbol's credits outbox before it writes: refused, the trade
    /// still pending, nothing owed and the balance as it was.
    @Test func voidTradeWithAnOutboxThatTakesNoEntryChangesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600)
            let before = try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            let outbox = Self.keys.tradeCredits("BTC")
            _ = try await redis.set(outbox, to: "not an outbox")
            await #expect {
                try await stores.trades.void(id: trade.id, reason: "delisted")
            } throws: { Self.isRefusal($0) }
            _ = try await redis.send(RedisCommand("DEL", outbox))
            #expect(try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == before)
            try await stores.expectClean()
        }
    }

    /// Point 10: `close_trades` checks every trade's hash before its credits: a trade whose hash takes no
    /// status refuses the call with nothing credited, so the next tick cannot pay anybody twice.
    @Test func closeTradesWithATradeThatTakesNoStatusCreditsNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let first = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 1, seconds: 1, at: "50000")
            let second = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 1, seconds: 1, at: "50000")
            #expect(await eventually { currentMilliseconds() > max(first.expiresAt ?? 0, second.expiresAt ?? 0) + 1 })
            let end = try await stores.tick("BTC", "50000")
            _ = try await redis.send(RedisCommand("RENAME", Self.keys.trade(second.id), Self.keys.trade(second.id) + ":kept"))
            _ = try await redis.set(Self.keys.trade(second.id), to: "not a trade")
            let before = try await Self.snapshot(stores, trades: [first], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            await #expect {
                try await Self.closeTrades(redis, "expiry", at: end, [(first.id, 0), (second.id, 0)])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID"
            }
            #expect(try await Self.snapshot(stores, trades: [first], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == before)
        }
    }
}
