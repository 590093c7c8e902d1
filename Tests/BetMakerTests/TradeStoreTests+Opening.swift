import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Issue 28, point 3: a trade opens at the first tick recorded after it was accepted, a price nobody
/// knew when it was accepted (docs/decisions/0294-trades-open-at-the-next-tick.md).
extension TradeStoreTests {
    /// Before, a trade started at the latest recorded price: a player who saw the market move before
    /// the feed recorded it bet on a move already made. Now the start is that next price, so knowing it
    /// gains nothing.
    @Test func aPlayerWhoKnowsTheNextPriceGainsNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let ines = try await stores.player("ines", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            // The exchanges already trade at 55,000; the feed has not recorded it yet.
            let up = try await stores.placed(ines.userID, "BTC", .up, 1000, leverage: 10, seconds: 1)
            let opening = try await stores.open("BTC", at: "55000")
            let opened = try #require(try await stores.trades.trade(id: up.id))
            #expect(opened.start == opening && opened.liquidationPrice == usd("49500"))
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            try await stores.open("BTC", at: "55000")
            let closed = try #require(try await stores.trades.trade(id: up.id))
            #expect(closed.status == .even && closed.profit == Money(cents: 0) && closed.payout == Money(cents: 1000))
            #expect(try await stores.balanceWithCredits(ines.userID) == Money(cents: 10_000))
            try await stores.expectClean()
        }
    }

    /// `open_trades` checks what the worker sends: the tick must be recorded at that price and be the
    /// first after the one the trade was accepted after, the liquidation price the one the leverage
    /// gives; a refused call writes nothing, and an opened trade sent again is skipped.
    @Test func openTradesRefusesAnyTickButTheFirstAfterAcceptance() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let jon = try await stores.player("jon", balance: Money(cents: 10_000))
            _ = try await stores.tick("ETH", "2000")
            let trade = try await stores.placed(jon.userID, "ETH", .down, 1000, leverage: 4, seconds: 60)
            let first = try await stores.tick("ETH", "2100")
            let second = try await stores.tick("ETH", "2200")
            func open(at tick: Tick, price: String? = nil, liquidation: String) async throws -> [Int] {
                let keys = Self.keys
                let reply = try await redis.eval(
                    Scripts.openTrades,
                    keys: [
                        keys.pendingTrades("ETH"), keys.dueTrades("ETH"), keys.openTrades("ETH", .up), keys.openTrades("ETH", .down),
                        keys.openTradeTerms("ETH"), keys.ticks("ETH"), keys.trade(trade.id),
                    ],
                    arguments: [
                        "ETH", tick.id, price ?? String(tick.price.units), keys.prefix, trade.id, liquidation,
                    ])
                return try reply.array(for: "open_trades").prefix(2).map { try $0.int(for: "open_trades") }
            }
            // 2100 × 5 / 4 = 2625.
            let right = String(try Price(parsing: "2625").units)
            let snapshot = { try await Self.snapshot(stores, trades: [trade], ledgersOf: [jon.userID], balancesOf: [jon.userID]) }
            let before = try await snapshot()
            for (tick, price, liquidation) in [
                (second, nil, String(try Price(parsing: "2750").units)),  // a later tick, priced right
                (first, String(try Price(parsing: "2000").units), right),  // the tick at another price
                (first, nil, String(try Price(parsing: "2600").units)),  // a liquidation price the leverage does not give
                (first, nil, "0"),
            ] {
                await #expect {
                    try await open(at: tick, price: price, liquidation: liquidation)
                } throws: { error in
                    (error as? RedisError)?.serverCode == "BATCH_INVALID"
                }
                #expect(try await snapshot() == before, "\(tick.id) \(price ?? "") \(liquidation)")
            }
            #expect(try await redis.xlen(Self.keys.feed) == 0)
            #expect(try await open(at: first, liquidation: right) == [1, 0])
            #expect(try await open(at: first, liquidation: right) == [0, 1])
            let opened = try #require(try await stores.trades.trade(id: trade.id))
            #expect(opened.status == .open && opened.start == first && opened.expiresAt == first.time + 60_000)
            #expect(opened.liquidationPrice == usd("2625"))
            // The worker, coming to these ticks afterwards, finds nothing left to open.
            #expect(try await stores.settler.process(symbol: "ETH").opened == 0)
            try await stores.expectClean()
        }
    }

    /// A void and the opening tick racing: each trade is voided (stake back) or opened, never both.
    @Test func aVoidAndAnOpeningTickRacingGiveExactlyOneOutcome() async throws {
        try await withRedis(poolSize: 8) { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 4)
            let kim = try await stores.player("kim", balance: Money(cents: 1_000_000))
            _ = try await stores.tick("ETH", "1000")
            var ids: [String] = []
            for _ in 0..<40 { ids.append(try await stores.placed(kim.userID, "ETH", .up, 1000, leverage: 10, seconds: 3600).id) }
            _ = try await stores.tick("ETH", "1001")
            async let opening = stores.settler.process(symbol: "ETH")
            let voids = try await withThrowingTaskGroup(of: TradeStore.VoidOutcome.self) { group in
                for id in ids { group.addTask { try await stores.trades.void(id: id, reason: "feed lost") } }
                return try await group.reduce(into: [TradeStore.VoidOutcome]()) { $0.append($1) }
            }
            let report = try await opening
            let voided = voids.filter { if case .voided = $0 { true } else { false } }.count
            let trades = try await stores.trades.trades(ids: ids)
            // A trade opened before its void is voided open; either way it ends void or open, once.
            #expect(trades.filter { $0.status == .void }.count == voided)
            #expect(trades.filter { $0.status == .open }.count == ids.count - voided)
            #expect(report.opened >= ids.count - voided)
            #expect(try await stores.balance(kim.userID) == Money(cents: 1_000_000 - 40_000))
            #expect(try await stores.owed(kim.userID) == Money(cents: Int64(voided) * 1000))
            try await stores.expectClean()
        }
    }

    /// Two workers on the same opening tick open each trade once.
    @Test func twoSettlersOnTheOpeningTickOpenEachTradeOnce() async throws {
        try await withRedis(poolSize: 8) { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 6)
            let lea = try await stores.player("lea", balance: Money(cents: 1_000_000))
            _ = try await stores.tick("BTC", "1000")
            for index in 0..<50 {
                _ = try await stores.placed(lea.userID, "BTC", index % 2 == 0 ? .up : .down, 100, leverage: 1 + index % 7, seconds: 60)
            }
            _ = try await stores.tick("BTC", "1010")
            let second = TradeSettler(redis: redis, keys: Self.keys, batchSize: 5)
            async let one = stores.settler.process(symbol: "BTC")
            async let two = second.process(symbol: "BTC")
            let reports = try await [one, two]
            #expect(reports.map(\.opened).reduce(0, +) == 50)
            #expect(try await redis.zcard(Self.keys.dueTrades("BTC")) == 50)
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 0)
            try await stores.expectClean()
        }
    }

    /// The invariant checker holds a pending trade to the pending set, and the set to pending trades.
    @Test func theCheckerFindsAPendingTradeOutOfItsSet() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let max = try await stores.player("max", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "100")
            let opened = try await stores.opened(max.userID, "BTC", .down, 1000, leverage: 2, seconds: 60, at: "100")
            let pending = try await stores.placed(max.userID, "BTC", .up, 1000, leverage: 2, seconds: 60)
            try await stores.expectClean()
            let set = Self.keys.pendingTrades("BTC")
            _ = try await redis.zrem(set, [pending.id])
            _ = try await redis.send(RedisCommand("ZADD", set, "1", opened.id))
            let report = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(report.count(.tradeIndexMismatch) == 2, "\(report.violations)")
            #expect(report.violations.contains { $0.key == set && $0.detail == "misses the trade \(pending.id)" })
            #expect(report.violations.contains { $0.key == set && $0.detail.hasPrefix("holds \(opened.id),") })
        }
    }

    /// Two ticks in one millisecond (`<ms>-0`, `<ms>-1`): a trade accepted after the first opens at
    /// the second, and one accepted after the second waits for the next millisecond's tick.
    @Test func ticksOfOneMillisecondOpenTradesInTheirOrder() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let ned = try await stores.player("ned", balance: Money(cents: 10_000))
            let keys = Self.keys
            let ms = currentMilliseconds() + 1000
            func record(_ id: String, _ price: String) async throws -> Tick {
                let units = try Price(parsing: price).units
                _ = try await redis.send(RedisCommand("XADD", keys.ticks("ETH"), id, "price", String(units), "source", "test"))
                _ = try await redis.send(
                    RedisCommand("HSET", keys.quote("ETH"), "price", String(units), "tick", id, "time", String(ms), "source", "test"))
                return Tick(id: id, price: Price(units: units))
            }
            _ = try await record("\(ms)-0", "2000")
            let first = try await stores.placed(ned.userID, "ETH", .up, 1000, leverage: 2, seconds: 60)
            let second = try await record("\(ms)-1", "2001")
            let late = try await stores.placed(ned.userID, "ETH", .up, 1000, leverage: 2, seconds: 60)
            #expect(try await stores.settler.process(symbol: "ETH").opened == 1)
            #expect(try await stores.trades.trade(id: first.id)?.start == second)
            #expect(try await stores.trades.trade(id: late.id)?.status == .pending)
            let next = try await record("\(ms + 1)-0", "2002")
            #expect(try await stores.settler.process(symbol: "ETH").opened == 1)
            #expect(try await stores.trades.trade(id: late.id)?.start == next)
            try await stores.expectClean()
        }
    }
}
