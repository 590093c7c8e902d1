import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension TradeStoreTests {
    /// Calls `close_trades` on BTC directly, as the worker would: `close` ('expiry' or 'stop_out') at
    /// `tick`, the trades' ids and profits (cents), with the `owners`' keys. Returns {closed, skipped, paid}.
    static func closeTrades(
        _ redis: RedisClient, _ close: String, at tick: Tick, _ trades: [(id: String, profit: Int64)], owners: [Int]
    ) async throws -> [Int] {
        var keys = [
            Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up), Self.keys.openTrades("BTC", .down), Self.keys.feed,
            Self.keys.openTradeTerms("BTC"),
        ]
        var arguments = ["BTC", tick.id, String(tick.price.units), Self.keys.prefix, close, "100"]
        for (id, profit) in trades {
            keys.append(Self.keys.trade(id))
            arguments += [id, String(profit)]
        }
        for owner in owners { keys += [Self.keys.accounts(owner), Self.keys.ledger(owner)] }
        return try await redis.eval(Scripts.closeTrades, keys: keys, arguments: arguments).array(for: "close_trades").map {
            try $0.int(for: "close_trades")
        }
    }

    /// What a refused `close_trades` call must leave as it was: the trades, the due and open (up) sets'
    /// sizes, the ledgers of `ledgersOf` (their entries' ids) and the balances of `balancesOf`.
    static func snapshot(_ stores: Stores, trades: [Trade], ledgersOf: [Int], balancesOf: [Int]) async throws -> [String] {
        var state = try await stores.trades.trades(ids: trades.map(\.id)).map { "\($0)" }
        for set in [Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up)] { state.append("\(try await stores.redis.zcard(set))") }
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
            let other = try await stores.player("ivan", balance: Money(cents: 10_000))
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

            func close(_ close: String, _ trades: [(Trade, Int64)], owner: Int? = nil) async throws -> [Int] {
                try await Self.closeTrades(redis, close, at: crash, trades.map { ($0.0.id, $0.1) }, owners: [owner ?? hana.userID])
            }
            func snapshot() async throws -> [String] {
                try await Self.snapshot(stores, trades: [steep, gentle], ledgersOf: [hana.userID], balancesOf: [hana.userID])
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

            // The true outcome closes the steep trade; sent again, it is skipped as closed.
            // The feed holds the opening's entry only: a refused batch tells nobody.
            #expect(try await redis.xlen(Self.keys.feed) == 1)
            #expect(try await close("stop_out", [(steep, -1000)]) == [1, 0, 0])
            #expect(try await close("stop_out", [(steep, -1000)]) == [0, 1, 0])
            // ONE feed entry for the call that closed it, naming its owner only; the call that closed
            // nothing appends none.
            let feed = try await redis.xrange(Self.keys.feed).dropFirst()
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

    /// `close_trades` takes each owner's keys once and writes each account's balance once a call: a
    /// user's many payouts in one call still each record the balance right after them, in order.
    @Test func aUsersManyPayoutsInOneCallEachRecordTheBalanceAfterIt() async throws {
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
            _ = try await stores.tick("BTC", "50500")
            let report = try await stores.settler.process(symbol: "BTC")
            #expect(report.settled == 5 && report.batches == 1)

            let closed = try await stores.trades.trades(ids: placed.map(\.id))
            #expect(Set(closed.map(\.status)) == [.won, .lost])
            for (player, index) in zip(players, 0...) {
                let own = closed.enumerated().filter { $0.offset % 2 == index }.map(\.element)
                let payouts = try await redis.xrange(Self.keys.ledger(player.userID)).compactMap(\.fields).filter { $0["type"] == "payout" }
                #expect(payouts.compactMap { $0["trade_id"] } == own.map(\.id))
                #expect(payouts.compactMap { $0["amount"] } == own.compactMap { $0.payout.map { String($0.cents) } })
                // Each balance is the one before plus the payout; the last is the account's.
                let afterStakes = 10_000 - own.reduce(0) { $0 + $1.stake.cents }
                var running = afterStakes
                for payout in payouts {
                    running += Int64(payout["amount"] ?? "") ?? 0
                    #expect(payout["balance"] == String(running))
                }
                #expect(try await stores.balance(player.userID) == Money(cents: running))
                #expect(running == afterStakes + own.reduce(0) { $0 + ($1.payout?.cents ?? 0) })
            }
            try await stores.expectClean()
        }
    }

    /// The script adds payouts up in Lua numbers, exact below 2^53 cents: a payout that would take a
    /// balance beyond refuses the batch before its first write, rather than credit an inexact amount.
    @Test func aBalanceBeyondExactArithmeticRefusesTheBatch() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.opened(hana.userID, "BTC", .up, 1000, leverage: 1, seconds: 1, at: "50000")
            #expect(await eventually { currentMilliseconds() > trade.expiresAt ?? 0 })
            let end = try await stores.tick("BTC", "50000")
            let huge = "9007199254740000"
            _ = try await redis.hset(Self.keys.accounts(hana.userID), [String(hana.accountID): huge])
            await #expect {
                try await Self.closeTrades(redis, "expiry", at: end, [(trade.id, 0)], owners: [hana.userID])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID" && "\(error)".contains("2^53")
            }
            #expect(try await stores.trades.trade(id: trade.id)?.status == .open)
            #expect(try await redis.hget(Self.keys.accounts(hana.userID), String(hana.accountID)) == huge)
        }
    }

    /// A ledger that would refuse its payout transaction (here the second owner's is no stream) refuses
    /// the call before its first write: neither owner is credited, no transaction is written.
    @Test func aLedgerThatTakesNoEntryRefusesTheBatchBeforeItsFirstWrite() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hana = try await stores.player("hana", balance: Money(cents: 10_000))
            let ivan = try await stores.player("ivan", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let pending = [
                try await stores.placed(hana.userID, "BTC", .up, 1000, leverage: 1, seconds: 1),
                try await stores.placed(ivan.userID, "BTC", .up, 1000, leverage: 1, seconds: 1),
            ]
            let opening = try await stores.open("BTC", at: "50000")
            let opened = try await stores.reread(pending)
            let (first, second) = (opened[0], opened[1])
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            let end = try await stores.tick("BTC", "50000")
            _ = try await redis.set(Self.keys.ledger(ivan.userID), to: "not a ledger")
            // Ivan's ledger is no stream: only Hana's is read.
            func snapshot() async throws -> [String] {
                try await Self.snapshot(stores, trades: [first, second], ledgersOf: [hana.userID], balancesOf: [hana.userID, ivan.userID])
            }
            let before = try await snapshot()
            await #expect {
                try await Self.closeTrades(redis, "expiry", at: end, [(first.id, 0), (second.id, 0)], owners: [hana.userID, ivan.userID])
            } throws: { error in
                (error as? RedisError)?.serverCode == "BATCH_INVALID" && "\(error)".contains("no ledger")
            }
            #expect(try await snapshot() == before)
        }
    }
}
