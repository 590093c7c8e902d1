import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Trades through the store and the settler against a real Redis, with ticks the test records through
/// the worker's own path (`TradeStore.record`) one by one; every test ends with the invariant checker
/// clean.
@Suite struct TradeStoreTests {
    static let keys = RedisKeys(prefix: "x:")
    static let fresh: Duration = .seconds(60)

    struct Stores {
        let redis: RedisClient
        let trades: TradeStore
        let accounts: AccountStore
        let settler: TradeSettler

        init(_ redis: RedisClient, batchSize: Int = 3) {
            self.redis = redis
            trades = TradeStore(redis: redis, keys: TradeStoreTests.keys, ids: IDGenerator(node: 7))
            accounts = AccountStore(redis: redis, keys: TradeStoreTests.keys)
            settler = TradeSettler(redis: redis, keys: TradeStoreTests.keys, batchSize: batchSize)
        }

        func player(_ login: String, balance: Money) async throws -> (userID: Int, accountID: Int) {
            guard case .created(let user, let account, _) = try await accounts.register(login: login, passwordHash: "x", active: true)
            else { throw TestSupportError("\(login) not registered") }
            guard
                case .credited = try await accounts.deposit(
                    transactionID: "seed-\(login)", userID: user.id, accountID: account.id, amount: balance)
            else { throw TestSupportError("no deposit for \(login)") }
            return (user.id, account.id)
        }

        func tick(_ symbol: String, _ price: String) async throws -> Tick {
            try await trades.prices.record(symbol: symbol, price: try Price(parsing: price), source: "test")
        }

        /// Records a tick and runs the settler over it: the pending trades accepted before it open at it.
        @discardableResult
        func open(_ symbol: String, at price: String) async throws -> Tick {
            let tick = try await tick(symbol, price)
            _ = try await settler.process(symbol: symbol)
            return tick
        }

        /// The trades as they are now.
        func reread(_ trades: [Trade]) async throws -> [Trade] {
            try await self.trades.trades(ids: trades.map(\.id))
        }

        func place(
            _ userID: Int, _ symbol: String, _ direction: TradeDirection, _ stake: Int64, leverage: Int, seconds: Int,
            expected: Price? = nil, maximumAge: Duration = TradeStoreTests.fresh, idempotency: IdempotencyKey? = nil
        ) async throws -> TradeStore.PlaceOutcome {
            let order = TradeStore.Order(
                symbol: symbol, direction: direction, stake: Money(cents: stake), leverage: leverage, duration: seconds,
                expectedPrice: expected)
            return try await trades.place(
                order, userID: userID, maximumQuoteAge: maximumAge, toleranceBasisPoints: 50, idempotency: idempotency)
        }

        func placed(
            _ userID: Int, _ symbol: String, _ direction: TradeDirection, _ stake: Int64, leverage: Int, seconds: Int
        ) async throws -> Trade {
            guard case .placed(let trade) = try await place(userID, symbol, direction, stake, leverage: leverage, seconds: seconds) else {
                throw TestSupportError("trade not placed")
            }
            return trade
        }

        /// Places a trade and opens it at a new tick of `price`: where most tests of closing start.
        func opened(
            _ userID: Int, _ symbol: String, _ direction: TradeDirection, _ stake: Int64, leverage: Int, seconds: Int, at price: String
        ) async throws -> Trade {
            let pending = try await placed(userID, symbol, direction, stake, leverage: leverage, seconds: seconds)
            try await open(symbol, at: price)
            guard let trade = try await trades.trade(id: pending.id), trade.status == .open else {
                throw TestSupportError("trade \(pending.id) not opened")
            }
            return trade
        }

        func balance(_ userID: Int) async throws -> Money? {
            try await accounts.accounts(userID: userID).first?.balance
        }

        /// One pass of the worker's reconciler over every pending hold, however young.
        func reconcile() async throws -> HoldReconciler.Pass {
            try await HoldReconciler(redis: redis, keys: TradeStoreTests.keys, maximumAge: .zero).reconcile()
        }

        /// What the symbols' credits outboxes owe the user: closes and voids write their payouts and
        /// refunds there, and no credit relay runs in these tests.
        func owed(_ userID: Int) async throws -> Money {
            var cents: Int64 = 0
            for symbol in ["BTC", "ETH"] {
                for entry in try await redis.xrange(TradeStoreTests.keys.tradeCredits(symbol))
                where entry.fields?["user_id"] == String(userID) {
                    cents += entry.fields?["amount"].flatMap { Int64($0) } ?? 0
                }
            }
            return Money(cents: cents)
        }

        /// The balance once the credits owed are applied.
        func balanceWithCredits(_ userID: Int) async throws -> Money? {
            guard let balance = try await balance(userID) else { return nil }
            return balance + (try await owed(userID))
        }

        func expectClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let report = try await InvariantChecker(redis: redis, keys: TradeStoreTests.keys, pageSize: 7).check()
            #expect(report.isClean, "\(report.violations.prefix(10))", sourceLocation: sourceLocation)
        }
    }

    @Test func ticksDriveAWinALossAnEvenResultAndAStopOutBeforeExpiry() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 100_000))
            let btcStart = try await stores.tick("BTC", "50000")
            _ = try await stores.tick("ETH", "3000")
            let pending = [
                try await stores.placed(alice.userID, "BTC", .up, 10_000, leverage: 10, seconds: 1),
                try await stores.placed(alice.userID, "BTC", .down, 10_000, leverage: 10, seconds: 1),
                try await stores.placed(alice.userID, "ETH", .up, 10_000, leverage: 5, seconds: 1),
                try await stores.placed(alice.userID, "BTC", .up, 10_000, leverage: 10, seconds: 3600),
            ]
            // Accepted after the latest tick, the stake held; no start price, no expiry yet.
            #expect(pending.allSatisfy { $0.status == .pending && $0.start == nil && $0.expiresAt == nil && $0.liquidationPrice == nil })
            #expect(pending[0].terms.acceptedAfter == btcStart.id)
            #expect(try await stores.balance(alice.userID) == Money(cents: 60_000))
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 3)
            #expect(try await redis.zcard(Self.keys.dueTrades("BTC")) == 0)
            try await stores.expectClean()
            // The next tick of each symbol opens them at its price.
            let btcOpen = try await stores.open("BTC", at: "50000")
            try await stores.open("ETH", at: "3000")
            let opened = try await stores.reread(pending)
            let (win, loss, even, longUp) = (opened[0], opened[1], opened[2], opened[3])
            #expect(opened.allSatisfy { $0.status == .open })
            #expect(win.start == btcOpen && win.liquidationPrice == usd("45000") && win.expiresAt == btcOpen.time + 1000)
            #expect(loss.liquidationPrice == usd("55000") && longUp.start == btcOpen)
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 0)
            #expect(try await redis.zcard(Self.keys.dueTrades("BTC")) == 3)

            // Ticks before expiry close nothing; the first at or after it settles the three.
            var endTick: Tick?
            #expect(
                await eventually {
                    endTick = try await stores.tick("BTC", "50250.01")
                    _ = try await stores.tick("ETH", "3000")
                    _ = try await stores.settler.process(symbol: "BTC")
                    _ = try await stores.settler.process(symbol: "ETH")
                    return try await stores.reread([win, loss, even]).allSatisfy { $0.status != .open }
                })
            let closed = try await stores.trades.trades(ids: [win.id, loss.id, even.id, longUp.id])
            #expect(closed.map(\.status) == [.won, .lost, .even, .open])
            #expect(closed.map(\.payout) == [Money(cents: 10_500), Money(cents: 9_499), Money(cents: 10_000), nil])
            #expect(closed.map(\.profit) == [Money(cents: 500), Money(cents: -501), Money(cents: 0), nil])
            #expect(closed[1].end?.price == endTick?.price && closed[1].closedBy == .expiry)
            // Each end tick is the first at or after its trade's expiry: no earlier tick was late enough.
            for (trade, placed) in zip(closed.prefix(2), [win, loss]) {
                let end = try #require(trade.end)
                let expiresAt = try #require(placed.expiresAt)
                #expect(end.time >= expiresAt)
                let earlier = try await redis.xrange(Self.keys.ticks("BTC"), start: "(" + btcOpen.id, end: "(" + end.id)
                #expect(earlier.allSatisfy { Tick(id: $0.id, price: end.price).time < expiresAt })
            }

            // A tick at the long trade's liquidation price stops it out, long before its expiry.
            let crash = try await stores.tick("BTC", "45000")
            let report = try await stores.settler.process(symbol: "BTC")
            #expect(report.stoppedOut == 1 && report.ticks == 1)
            let stopped = try await stores.trades.trade(id: longUp.id)
            #expect(stopped?.status == .lost && stopped?.closedBy == .stopOut && stopped?.end == crash)
            #expect(stopped?.payout == Money(cents: 0) && stopped?.profit == Money(cents: -10_000))
            #expect(try await stores.balance(alice.userID) == Money(cents: 60_000))
            #expect(try await stores.balanceWithCredits(alice.userID) == Money(cents: 60_000 + 10_500 + 9_499 + 10_000))
            for set in [Self.keys.dueTrades("BTC"), Self.keys.openTrades("BTC", .up), Self.keys.openTrades("BTC", .down)] {
                #expect(try await redis.zcard(set) == 0)
            }
            // Processing again changes nothing.
            #expect(try await stores.settler.process(symbol: "BTC").ticks == 0)
            try await stores.expectClean()
        }
    }

    @Test func aStaleFeedRefusesTradesAndDueTradesWaitForTheNextTick() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let bob = try await stores.player("bob", balance: Money(cents: 10_000))
            #expect(try await stores.place(bob.userID, "BTC", .up, 100, leverage: 2, seconds: 1) == .priceUnavailable(nil))
            _ = try await stores.tick("BTC", "99")
            let placed = try await stores.placed(bob.userID, "BTC", .up, 1000, leverage: 2, seconds: 1)
            try await stores.open("BTC", at: "100")
            let trade = try #require(try await stores.trades.trade(id: placed.id))
            let expiresAt = try #require(trade.expiresAt)
            // The quote ages past a 1 ms maximum: refused, nothing debited.
            #expect(
                await eventually {
                    if case .priceUnavailable = try await stores.place(
                        bob.userID, "BTC", .up, 100, leverage: 2, seconds: 1, maximumAge: .milliseconds(1))
                    {
                        return true
                    }
                    return false
                })
            #expect(try await stores.balance(bob.userID) == Money(cents: 9_000))
            // Past its expiry, without a new tick, the trade waits however often the worker looks.
            #expect(
                await eventually {
                    _ = try await stores.settler.process(symbol: "BTC")
                    return currentMilliseconds() > expiresAt + 20
                })
            #expect(try await stores.trades.trade(id: trade.id)?.status == .open)
            // The first tick after the feed comes back settles it, at that tick's price.
            let back = try await stores.tick("BTC", "110")
            _ = try await stores.settler.process(symbol: "BTC")
            let settled = try await stores.trades.trade(id: trade.id)
            #expect(settled?.status == .won && settled?.end == back && settled?.profit == Money(cents: 200))
            try await stores.expectClean()
        }
    }

    @Test func theClientsStartPriceIsAGuardAndRetriesAreIdempotent() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let carol = try await stores.player("carol", balance: Money(cents: 10_000))
            _ = try await stores.tick("ETH", "2000")
            let moved = try await stores.place(
                carol.userID, "ETH", .down, 500, leverage: 3, seconds: 60, expected: try Price(parsing: "2010.01"))
            guard case .priceMoved(let quote) = moved else {
                Issue.record("not refused: \(moved)")
                return
            }
            #expect(quote.tick.price == usd("2000"))
            let key = IdempotencyKey(key: "k1", fingerprint: "f1")
            let first = try await stores.place(
                carol.userID, "ETH", .down, 500, leverage: 3, seconds: 60, expected: try Price(parsing: "2010"), idempotency: key)
            guard case .placed(let trade) = first else {
                Issue.record("not placed: \(first)")
                return
            }
            // The next tick's price, neither the client's nor the quote's.
            #expect(trade.status == .pending && trade.start == nil)
            try await stores.open("ETH", at: "2001")
            #expect(try await stores.trades.trade(id: trade.id)?.start?.price == usd("2001"))
            // A replay answers what the first call did.
            #expect(try await stores.place(carol.userID, "ETH", .down, 500, leverage: 3, seconds: 60, idempotency: key) == .replayed(trade))
            // A retry is answered even when the quote is too old to price a new trade (read before pricing).
            #expect(
                try await stores.place(
                    carol.userID, "ETH", .down, 500, leverage: 3, seconds: 60, maximumAge: .milliseconds(-1), idempotency: key)
                    == .replayed(trade))
            let other = IdempotencyKey(key: "k1", fingerprint: "f2")
            #expect(
                try await stores.place(carol.userID, "ETH", .down, 500, leverage: 3, seconds: 60, idempotency: other)
                    == .idempotencyKeyReused)
            #expect(try await stores.balance(carol.userID) == Money(cents: 9_500))
            let page = try await stores.trades.list(userID: carol.userID, status: .open, limit: 10, cursor: nil)
            #expect(page.trades.map(\.id) == [trade.id] && page.nextCursor == nil)
            try await stores.expectClean()
        }
    }

    @Test func fiftyConcurrentTradesOnABalanceCoveringThreeAcceptExactlyThree() async throws {
        try await withRedis(poolSize: 8) { (_, redis) async throws in
            let stores = Stores(redis)
            let dave = try await stores.player("dave", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "60000")
            let outcomes = try await withThrowingTaskGroup(of: TradeStore.PlaceOutcome.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await stores.place(dave.userID, "BTC", .up, 3000, leverage: 5, seconds: 60) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .placed = $0 { true } else { false } }.count == 3)
            #expect(outcomes.filter { if case .insufficientFunds = $0 { true } else { false } }.count == 47)
            #expect(try await stores.balance(dave.userID) == Money(cents: 1000))
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 3)
            try await stores.expectClean()
        }
    }

    @Test func twoSettlersOnTheSameTicksCloseEachTradeOnce() async throws {
        try await withRedis(poolSize: 8) { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 7)
            let erin = try await stores.player("erin", balance: Money(cents: 1_000_000))
            _ = try await stores.tick("BTC", "1000")
            var ids: [String] = []
            for index in 0..<60 {
                let trade = try await stores.placed(
                    erin.userID, "BTC", index % 2 == 0 ? .up : .down, 1000, leverage: 1 + index % 20, seconds: index % 3 == 0 ? 3600 : 1)
                ids.append(trade.id)
            }
            try await stores.open("BTC", at: "1000")
            // A dip that stops out the most leveraged up trades, then a tick after the short ones' expiry.
            _ = try await stores.tick("BTC", "930")
            let lastExpiry = try await stores.trades.trades(ids: ids).filter { $0.duration == 1 }.compactMap(\.expiresAt).max() ?? 0
            #expect(await eventually { currentMilliseconds() > lastExpiry })
            _ = try await stores.tick("BTC", "1030")
            let second = TradeSettler(redis: redis, keys: Self.keys, batchSize: 5)
            async let one = stores.settler.process(symbol: "BTC")
            async let two = second.process(symbol: "BTC")
            let reports = try await [one, two]
            let trades = try await stores.trades.trades(ids: ids)
            let closed = trades.filter { $0.status != .open }
            #expect(reports.map { $0.stoppedOut + $0.settled }.reduce(0, +) == closed.count)
            #expect(closed.count > 40)
            // One credit owed per closed trade that pays anything, and the checker agrees.
            let payouts = try await redis.xrange(Self.keys.tradeCredits("BTC")).filter { $0.fields?["user_id"] == String(erin.userID) }
            #expect(payouts.count == closed.filter { $0.payout != Money(cents: 0) }.count)
            #expect(Set(payouts.compactMap { $0.fields?["trade_id"] }).count == payouts.count)
            try await stores.expectClean()
        }
    }

    /// The settler reads each page ahead of the previous page's scripts, at an offset that counts the
    /// trades those scripts have not closed yet: if it were wrong, a page would repeat trades (calls
    /// with fewer closes) or skip them (a second pass, more calls).
    @Test func manyPagesOfDueTradesCloseInFullCallsInOnePass() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis, batchSize: 5)
            let gina = try await stores.player("gina", balance: Money(cents: 10_000_000))
            _ = try await stores.tick("ETH", "1000")
            for index in 0..<203 {
                _ = try await stores.placed(gina.userID, "ETH", index % 2 == 0 ? .up : .down, 100, leverage: 1 + index % 9, seconds: 1)
            }
            let opening = try await stores.open("ETH", at: "1000")
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            _ = try await stores.tick("ETH", "1001")
            let report = try await stores.settler.process(symbol: "ETH")
            #expect(report.settled == 203 && report.stoppedOut == 0)
            #expect(report.batches == 41, "203 trades in calls of 5: \(report.batches) calls")
            #expect(report.won + report.lost + report.even == 203)
            #expect(try await redis.zcard(Self.keys.dueTrades("ETH")) == 0)
            try await stores.expectClean()
        }
    }

    @Test func theInvariantCheckerFindsDamagedTrades() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let frank = try await stores.player("frank", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "100")
            let open = try await stores.placed(frank.userID, "BTC", .up, 1000, leverage: 2, seconds: 3600)
            let closing = try await stores.placed(frank.userID, "BTC", .down, 1000, leverage: 2, seconds: 3600)
            let garbled = try await stores.placed(frank.userID, "BTC", .up, 1000, leverage: 3, seconds: 3600)
            try await stores.open("BTC", at: "100")
            _ = try await stores.tick("BTC", "200")
            _ = try await stores.settler.process(symbol: "BTC")
            #expect(try await stores.trades.trade(id: closing.id)?.status == .lost)
            try await stores.expectClean()

            // An open trade missing from its due set, and a stopped-out trade whose outcome says it lost
            // only half its stake (a payout of 500).
            _ = try await redis.zrem(Self.keys.dueTrades("BTC"), [open.id])
            let stopped = try #require(try await stores.trades.trade(id: closing.id))
            let end = try #require(stopped.end)
            let outcome = "stop_out \(stopped.settledAt ?? 0) -500 \(end.id) \(end.price.units)"
            _ = try await redis.send(RedisCommand("HSET", Self.keys.trade(closing.id), Trade.outcomeField, outcome))
            #expect(try await stores.trades.trade(id: closing.id)?.payout == Money(cents: 500))
            // The closed trade back in the open-trade terms (which `close_trades` would take as open), the
            // open one's entry with another stake, and another open one's entry that is no terms at all.
            let terms = Self.keys.openTradeTerms("BTC")
            guard case .bulkString(let stored) = try await redis.send(RedisCommand("HGET", Self.keys.trade(open.id), Trade.Terms.field))
            else { throw TestSupportError("no terms") }
            let packed = Array(stored.readableBytesView)
            let restaked = try await redis.send(
                RedisCommand("EVAL", "local t = {cmsgpack.unpack(ARGV[1])} t[5] = 999 return cmsgpack.pack(unpack(t))", "0", packed))
            guard case .bulkString(let otherStake) = restaked else { throw TestSupportError("not re-encoded: \(restaked)") }
            _ = try await redis.send(
                RedisCommand("HSET", terms, closing.id, packed, open.id, Array(otherStake.readableBytesView), garbled.id, "\u{A1}x"))
            let report = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(report.count(.tradeIndexMismatch) == 4, "\(report.violations)")
            let onTerms = report.violations.filter { $0.key == terms }.map(\.detail)
            #expect(onTerms.count == 3, "\(onTerms)")
            #expect(onTerms.contains { $0.hasPrefix("holds terms for \(garbled.id) that are not the trade's: unreadable") }, "\(onTerms)")
            #expect(onTerms.contains { $0.hasPrefix("holds \(closing.id),") })
            #expect(onTerms.contains { $0.hasPrefix("holds terms for \(open.id)") })
            // A stop-out paid something, and no ledger entry pays it.
            #expect(report.count(.invalidTrade) == 1 && report.count(.payoutMismatch) == 1, "\(report.violations)")
            #expect(report.violations.contains { $0.key == Self.keys.dueTrades("BTC") && $0.detail.contains(open.id) })
        }
    }
}
