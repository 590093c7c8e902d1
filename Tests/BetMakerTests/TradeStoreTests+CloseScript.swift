import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension TradeStoreTests {
    /// `close_trades` trusts nothing the worker computed: a batch with one outcome that does not check
    /// out against the trade's stored fields is refused whole, before its first write.
    @Test func closeTradesRefusesABatchThatDoesNotCheckOutAndWritesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            let other = try await stores.player("ivan", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            // Liquidation at 45,000 and at 25,000.
            let steep = try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 10, seconds: 3600)
            let gentle = try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600)
            let crash = try await stores.tick("BTC", "45000")

            func close(_ close: String, _ trades: [(Trade, Int64)], owner: Int? = nil) async throws -> [Int] {
                var keys = [
                    Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up), Self.keys.openTrades("BTC", .down), Self.keys.feed,
                ]
                var arguments = ["BTC", crash.id, String(crash.price.units), Self.keys.prefix, close, "100"]
                for (trade, profit) in trades {
                    keys += [Self.keys.trade(trade.id), Self.keys.accounts(owner ?? trade.userID), Self.keys.ledger(owner ?? trade.userID)]
                    arguments += [trade.id, String(profit)]
                }
                return try await redis.eval(Scripts.closeTrades, keys: keys, arguments: arguments).array(for: "close_trades").map {
                    try $0.int(for: "close_trades")
                }
            }
            func snapshot() async throws -> [String] {
                let trades = try await stores.trades.trades(ids: [steep.id, gentle.id]).map { "\($0)" }
                var sets: [String] = []
                for set in [Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up)] { sets.append("\(try await redis.zcard(set))") }
                let ledger = try await redis.xrange(Self.keys.ledger(hana.userID)).map(\.id)
                return trades + sets + ledger + ["\(try await stores.balance(hana.userID) as Money?)"]
            }

            let before = try await snapshot()
            let refused: [(String, [(Trade, Int64)], Int?)] = [
                // The gentle trade's liquidation price is not reached, though the steep one's is.
                ("stop_out", [(steep, -1000), (gentle, -1000)], nil),
                // Neither is due before its expiry.
                ("expiry", [(steep, -100)], nil),
                // A loss beyond the stake.
                ("expiry", [(steep, -1001)], nil),
                // The payout credited to somebody else.
                ("stop_out", [(steep, -1000)], other.userID),
                ("void", [(steep, -1000)], nil),
            ]
            for (kind, trades, owner) in refused {
                await #expect {
                    try await close(kind, trades, owner: owner)
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
                #expect(try await snapshot() == before, "\(kind) \(trades.map(\.1))")
            }

            // The true outcome closes the steep trade; sent again, it is skipped as closed.
            #expect(try await redis.xlen(Self.keys.feed) == 0, "a refused batch tells nobody")
            #expect(try await close("stop_out", [(steep, -1000)]) == [1, 0, 0])
            #expect(try await close("stop_out", [(steep, -1000)]) == [0, 1, 0])
            // ONE feed entry for the call that closed it, naming its owner only; the call that closed
            // nothing appends none.
            let feed = try await redis.xrange(Self.keys.feed)
            #expect(feed.count == 1)
            #expect(
                feed.first?.fields
                    == [
                        "type": "trades", "symbol": "BTC", "tick": crash.id, "price": String(crash.price.units),
                        "users": String(hana.userID),
                    ])
            let stopped = try await stores.trades.trade(id: steep.id)
            #expect(stopped?.status == .lost && stopped?.closedBy == .stopOut && stopped?.payout == Money(cents: 0))
            #expect(try await stores.balance(hana.userID) == Money(cents: 8000))
            try await stores.expectClean()
        }
    }
}
