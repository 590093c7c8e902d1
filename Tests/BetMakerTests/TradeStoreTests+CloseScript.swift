import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension TradeStoreTests {
    /// Calls `close_trades` on BTC directly, as the worker would: `close` ('expiry' or 'stop_out') at
    /// `tick`, the trades' ids and profits (cents). Returns {closed, skipped, paid} and the owners named.
    static func closeTrades(
        _ redis: RedisClient, _ close: String, at tick: Tick, _ trades: [(id: String, profit: Int64)]
    ) async throws -> (counts: [Int], owners: String) {
        var keys = [
            Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up), Self.keys.openTrades("BTC", .down),
            Self.keys.openTradeTerms("BTC"), Self.keys.tradeCredits("BTC"),
        ]
        var arguments = ["BTC", tick.id, String(tick.price.units), Self.keys.prefix, close]
        for (id, profit) in trades {
            keys.append(Self.keys.trade(id))
            arguments += [id, String(profit)]
        }
        let reply = try await redis.eval(Scripts.closeTrades, keys: keys, arguments: arguments).array(for: "close_trades")
        guard reply.count == 4 else { throw TestSupportError("close_trades answered \(reply)") }
        return (try reply.prefix(3).map { try $0.int(for: "close_trades") }, try reply[3].string(for: "close_trades"))
    }

    /// What a refused `close_trades` call must leave as it was: the trades, the due and open (up) sets'
    /// sizes, BTC's credits outbox, the ledgers of `ledgersOf` (their entries' ids) and the balances of
    /// `balancesOf`.
    static func snapshot(_ stores: Stores, trades: [Trade], ledgersOf: [Int], balancesOf: [Int]) async throws -> [String] {
        var state = try await stores.trades.trades(ids: trades.map(\.id)).map { "\($0)" }
        for set in [Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up)] { state.append("\(try await stores.redis.zcard(set))") }
        state += try await stores.redis.xrange(Self.keys.tradeCredits("BTC")).map(\.id)
        for user in ledgersOf { state += try await stores.redis.xrange(Self.keys.ledger(user)).map(\.id) }
        for user in balancesOf { state.append("\(try await stores.balance(user) as Money?)") }
        return state
    }

    /// `close_trades` trusts nothing the worker computed: a batch with one outcome that does not check
    /// out against the trade's stored fields is refused whole, before its first write.
    @Test func closeTradesRefusesABatchThatDoesNotCheckOutAndWritesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            // Liquidation at 45,000 and at 25,000.
            let pending = [
                try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 10, seconds: 3600),
                try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600),
            ]
            try await stores.open("BTC", at: "50000")
            let opened = try await stores.reread(pending)
            let (steep, gentle) = (opened[0], opened[1])
            let crash = try await stores.tick("BTC", "45000")

            func close(_ close: String, _ trades: [(Trade, Int64)]) async throws -> [Int] {
                try await Self.closeTrades(redis, close, at: crash, trades.map { ($0.0.id, $0.1) }).counts
            }
            func snapshot() async throws -> [String] {
                try await Self.snapshot(stores, trades: [steep, gentle], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            }

            let before = try await snapshot()
            let refused: [(String, [(Trade, Int64)])] = [
                // The gentle trade's liquidation price is not reached, though the steep one's is.
                ("stop_out", [(steep, -1000), (gentle, -1000)]),
                // Neither is due before its expiry.
                ("expiry", [(steep, -100)]),
                // A loss beyond the stake.
                ("expiry", [(steep, -1001)]),
                ("void", [(steep, -1000)]),
            ]
            for (kind, trades) in refused {
                await #expect {
                    try await close(kind, trades)
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
                #expect(try await snapshot() == before, "\(kind) \(trades.map(\.1))")
            }
            // The trade's open-trade entry damaged: empty, or MessagePack that ends after the owner.
            let terms = Self.keys.openTradeTerms("BTC")
            _ = try await redis.send(RedisCommand("COPY", terms, terms + ":kept"))
            for damaged in ["", "\u{A1}7"] {
                _ = try await redis.hset(terms, [steep.id: damaged])
                await #expect {
                    try await close("stop_out", [(steep, -1000)])
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
                #expect(try await snapshot() == before, "entry \(damaged.utf8.count) bytes")
            }
            _ = try await redis.send(RedisCommand("COPY", terms + ":kept", terms, "REPLACE"))
            _ = try await redis.send(RedisCommand("DEL", terms + ":kept"))

            // The true outcome closes the steep trade and names its owner for the caller's feed entry (the
            // script writes no feed: the opening's entry, appended by the settler, is the only one); sent
            // again, it is skipped as closed and names nobody.
            let first = try await Self.closeTrades(redis, "stop_out", at: crash, [(steep.id, -1000)])
            #expect(first.counts == [1, 0, 0] && first.owners == String(hana.userID))
            let again = try await Self.closeTrades(redis, "stop_out", at: crash, [(steep.id, -1000)])
            #expect(again.counts == [0, 1, 0] && again.owners == "")
            #expect(try await redis.xlen(Self.keys.feed) == 1)
            // A stop-out pays nothing: nothing is owed.
            #expect(try await redis.xlen(Self.keys.tradeCredits("BTC")) == 0)
            let stopped = try await stores.trades.trade(id: steep.id)
            #expect(stopped?.status == .lost && stopped?.closedBy == .stopOut && stopped?.payout == Money(cents: 0))
            #expect(try await stores.balance(hana.userID) == Money(cents: 8000))
            try await stores.expectClean()
        }
    }

    /// `close_trades` touches the symbol's slot only: each payout above zero is one entry in the symbol's
    /// credits outbox, naming the trade, its owner, account and amount, in the order closed; the owners'
    /// balances and ledgers are not touched until the credits are applied on their slots.
    @Test func aCallsPayoutsGoToTheSymbolsCreditsOutboxOneEntryATrade() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 10)
            let players = [
                try await stores.player("hana", balance: Money(cents: 10_000)),
                try await stores.player("ivan", balance: Money(cents: 10_000)),
            ]
            _ = try await stores.tick("BTC", "50000")
            var placed: [Trade] = []
            for index in 0..<5 {
                placed.append(
                    try await stores.placed(
                        players[index % 2].userID, "BTC", index % 3 == 0 ? .down : .up, 1000 + Int64(index), leverage: 1 + index,
                        seconds: 1))
            }
            let opening = try await stores.open("BTC", at: "50000")
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            var ledgers: [Int] = []
            for player in players { ledgers.append(try await redis.xlen(Self.keys.ledger(player.userID))) }
            let end = try await stores.tick("BTC", "50500")
            let report = try await stores.settler.process(symbol: "BTC")
            #expect(report.settled == 5 && report.batches == 1)

            let closed = try await stores.trades.trades(ids: placed.map(\.id))
            #expect(Set(closed.map(\.status)) == [.won, .lost])
            let paying = closed.filter { ($0.payout?.cents ?? 0) > 0 }
            let credits = try await redis.xrange(Self.keys.tradeCredits("BTC")).compactMap(\.fields)
            #expect(
                credits
                    == paying.map {
                        [
                            "type": "payout", "credit_id": "trade:" + $0.id, "trade_id": $0.id, "user_id": String($0.userID),
                            "account_id": String($0.accountID), "amount": String($0.payout?.cents ?? 0),
                        ]
                    })
            #expect(report.paidOut == Money(cents: paying.reduce(0) { $0 + ($1.payout?.cents ?? 0) }))
            // Nothing on the owners' slots: the stakes only.
            for (player, entries) in zip(players, ledgers) {
                #expect(try await redis.xlen(Self.keys.ledger(player.userID)) == entries)
                let own = closed.filter { $0.userID == player.userID }
                #expect(try await stores.balance(player.userID) == Money(cents: 10_000 - own.reduce(0) { $0 + $1.stake.cents }))
            }
            // One feed entry for the call, naming both owners, appended by the settler.
            let feed = try await redis.xrange(Self.keys.feed).compactMap(\.fields).filter { $0["tick"] == end.id }
            let named = Set(feed.first?["users"]?.split(separator: ",").map(String.init) ?? [])
            #expect(feed.count == 1 && named == Set(players.map { String($0.userID) }))
            // The checker counts the payouts as owed: money is conserved.
            try await stores.expectClean()
        }
    }

    /// An outbox that would refuse its credit (it is no stream) refuses the call before its first write.
    @Test func anOutboxThatTakesNoEntryRefusesTheBatchBeforeItsFirstWrite() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 1, seconds: 1, at: "50000")
            #expect(await eventually { currentMilliseconds() > trade.expiresAt ?? 0 })
            let end = try await stores.tick("BTC", "50000")
            let before = try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID])
            _ = try await redis.set(Self.keys.tradeCredits("BTC"), to: "not an outbox")
            await #expect {
                try await Self.closeTrades(redis, "expiry", at: end, [(trade.id, 0)])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID" && "\(error)".contains("credits outbox")
            }
            _ = try await redis.send(RedisCommand("DEL", Self.keys.tradeCredits("BTC")))
            #expect(try await Self.snapshot(stores, trades: [trade], ledgersOf: [hana.userID], balancesOf: [hana.userID]) == before)
        }
    }
}
