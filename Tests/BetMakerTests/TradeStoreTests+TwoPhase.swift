import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Issue 30: a trade is placed as a two-phase transfer (the stake held on the user's slot, the trade
/// written on the symbol's, the hold posted or voided), and what closes and voids owe goes through the
/// symbol's credits outbox to the user's slot, applied once.
extension TradeStoreTests {
    /// The stake held, then a crash before the trade is written: the reconciler finds the symbol never
    /// placed it, records it abandoned and voids the hold (the stake back); the request, retried late,
    /// cannot place it any more.
    @Test func aCrashBetweenTheHoldAndTheTradeIsRepairedByTheReconciler() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let lena = try await stores.player("lena", balance: Money(cents: 10_000))
            let quote = try await stores.tick("BTC", "50000")
            let id = TradeID(symbol: "BTC", serial: stores.trades.ids.next())
            guard
                case .held(let hold) = try await stores.trades.wallet.hold(
                    .trade(id.description), userID: lena.userID, amount: Money(cents: 1000), accountID: nil)
            else { throw TestSupportError("not held") }
            #expect(try await stores.balance(lena.userID) == Money(cents: 9000))
            // The user's list names it already; readers skip an id without a trade.
            #expect(try await redis.lrange(Self.keys.userTrades(lena.userID), 0, -1) == [id.description])
            #expect(try await stores.trades.list(userID: lena.userID, status: nil, limit: 10, cursor: nil).trades.isEmpty)

            #expect(try await stores.reconcile() == HoldReconciler.Pass(posted: 0, voided: 1, left: 0))
            #expect(try await TradeHoldOwner(redis: redis, keys: Self.keys).fate(of: hold) == .abandoned)
            #expect(try await stores.balance(lena.userID) == Money(cents: 10_000))
            #expect(try await stores.trades.wallet.holds(userID: lena.userID).isEmpty)
            // A late second step is refused: nothing is written on the symbol.
            let late = try await redis.eval(
                Scripts.placeTrade,
                keys: [Self.keys.quote("BTC"), Self.keys.trade(id), Self.keys.pendingTrades("BTC"), Self.keys.abandonedTrades("BTC")],
                arguments: [
                    id.description, quote.id, "1000", String(lena.userID), String(lena.accountID), "BTC", "up", "2", "60", "60000",
                    Self.keys.prefix,
                ]
            ).strings(for: "place_trade")
            #expect(late == ["abandoned"])
            #expect(try await stores.trades.trade(id: id.description) == nil)
            #expect(try await redis.zcard(Self.keys.pendingTrades("BTC")) == 0)
            // Asked again, the reconciler changes nothing.
            #expect(try await stores.reconcile() == HoldReconciler.Pass())
            #expect(try await stores.balance(lena.userID) == Money(cents: 10_000))
            try await stores.expectClean()
        }
    }

    /// The trade written, then a crash before the hold is posted: the reconciler finds it placed and posts
    /// the hold; the stake stays spent, the trade opens and closes as any other.
    @Test func aCrashBetweenTheTradeAndThePostIsRepairedByTheReconciler() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let mia = try await stores.player("mia", balance: Money(cents: 10_000))
            let quote = try await stores.tick("BTC", "50000")
            let id = TradeID(symbol: "BTC", serial: stores.trades.ids.next())
            guard
                case .held(let hold) = try await stores.trades.wallet.hold(
                    .trade(id.description), userID: mia.userID, amount: Money(cents: 1000), accountID: nil)
            else { throw TestSupportError("not held") }
            let arguments = [
                id.description, quote.id, "1000", String(mia.userID), String(mia.accountID), "BTC", "up", "2", "1", "60000",
                Self.keys.prefix,
            ]
            let keys = [Self.keys.quote("BTC"), Self.keys.trade(id), Self.keys.pendingTrades("BTC"), Self.keys.abandonedTrades("BTC")]
            #expect(
                try await redis.eval(Scripts.placeTrade, keys: keys, arguments: arguments).strings(for: "place_trade").first == "placed")
            // Idempotent by the trade id: a retry of the step answers the trade as it is.
            #expect(
                try await redis.eval(Scripts.placeTrade, keys: keys, arguments: arguments).strings(for: "place_trade") == [
                    "exists", "pending",
                ])
            #expect(try await stores.reconcile() == HoldReconciler.Pass(posted: 1, voided: 0, left: 0))
            #expect(try await TradeHoldOwner(redis: redis, keys: Self.keys).fate(of: hold) == .placed)
            #expect(try await stores.trades.wallet.holds(userID: mia.userID).isEmpty)
            #expect(try await stores.balance(mia.userID) == Money(cents: 9000))
            try await stores.expectClean()
            let opening = try await stores.open("BTC", at: "50000")
            #expect(try await stores.trades.trade(id: id.description)?.status == .open)
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            _ = try await stores.tick("BTC", "50000")
            _ = try await stores.settler.process(symbol: "BTC")
            #expect(try await stores.trades.trade(id: id.description)?.status == .even)
            try await stores.expectClean()
        }
    }

    /// The stake held with an Idempotency-Key, then a crash: the client's retry with the key finishes the
    /// same trade (same id, the one hold posted), it does not place a second one.
    @Test func aRetryWithItsKeyFinishesATradeWhoseHoldIsPending() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let omar = try await stores.player("omar", balance: Money(cents: 10_000))
            _ = try await stores.tick("ETH", "3000")
            let order = TradeStore.Order(symbol: "ETH", direction: .down, stake: Money(cents: 700), leverage: 3, duration: 60)
            let key = IdempotencyKey(key: "retry-1", fingerprint: order.fingerprint)
            let id = TradeID(symbol: "ETH", serial: stores.trades.ids.next())
            guard
                case .held = try await stores.trades.wallet.hold(
                    .trade(id.description), userID: omar.userID, amount: order.stake, accountID: nil, idempotency: key)
            else { throw TestSupportError("not held") }
            let retried = try await stores.trades.place(
                order, userID: omar.userID, maximumQuoteAge: Self.fresh, toleranceBasisPoints: 50, idempotency: key)
            guard case .replayed(let trade) = retried else { throw TestSupportError("not replayed: \(retried)") }
            #expect(trade.id == id.description && trade.status == .pending && trade.stake == Money(cents: 700))
            #expect(try await stores.trades.wallet.holds(userID: omar.userID).isEmpty)
            #expect(try await stores.balance(omar.userID) == Money(cents: 9300))
            // Again: the same answer, nothing more taken.
            #expect(
                try await stores.trades.place(
                    order, userID: omar.userID, maximumQuoteAge: Self.fresh, toleranceBasisPoints: 50, idempotency: key) == .replayed(trade)
            )
            #expect(try await redis.lrange(Self.keys.userTrades(omar.userID), 0, -1) == [id.description])
            try await stores.expectClean()
        }
    }

    /// A closed trade's payout goes through the symbol's credits outbox and is applied on the owner's
    /// slot once, however often it is delivered; the checker sees it owed, then paid.
    @Test func aClosedTradesPayoutIsAppliedOnceEvenIfDeliveredTwice() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let nora = try await stores.player("nora", balance: Money(cents: 10_000))
            _ = try await stores.tick("BTC", "50000")
            let trade = try await stores.opened(nora.userID, "BTC", .up, 1000, leverage: 10, seconds: 1, at: "50000")
            #expect(await eventually { currentMilliseconds() > (trade.expiresAt ?? 0) + 1 })
            _ = try await stores.tick("BTC", "50500")
            _ = try await stores.settler.process(symbol: "BTC")
            let won = try #require(try await stores.trades.trade(id: trade.id))
            #expect(won.status == .won && won.payout == Money(cents: 1100))
            #expect(try await stores.balance(nora.userID) == Money(cents: 9000))
            let report = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(report.isClean && report.money.owed == Money(cents: 1100), "\(report.violations)")

            let outbox = Self.keys.tradeCredits("BTC")
            let entries = try await redis.xrange(outbox)
            #expect(entries.count == 1)
            let fields = try #require(entries.first?.fields)
            #expect(fields["credit_id"] == "trade:" + trade.id && fields["user_id"] == String(nora.userID))
            // The relay's path (`CreditOutbox`, as `CreditRelay` runs it), the entry delivered twice: a
            // redelivery, a second worker.
            let relay = CreditOutbox(redis: redis, keys: Self.keys, streams: [outbox])
            #expect(try await relay.drain(consumer: "first") == 1)
            #expect(try await relay.apply(entries, from: outbox) == entries.map(\.id))
            #expect(try await stores.balance(nora.userID) == Money(cents: 10_100))
            let payouts = try await redis.xrange(Self.keys.ledger(nora.userID)).filter { $0.fields?["type"] == "payout" }
            #expect(payouts.map { $0.fields?["trade_id"] } == [trade.id] && payouts.first?.fields?["amount"] == "1100")
            let after = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(after.isClean && after.money.owed == Money(cents: 0), "\(after.violations)")
        }
    }
}
