import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension TradeStoreTests {
    /// An installation upgraded from before the packed form (`Trade.Terms`, `Trade.outcomeField`) still
    /// holds trades with their fields apart: closed ones, and open ones placed before the upgrade. They
    /// read as they did, the open ones close (stop-out and expiry) and void through the same scripts,
    /// and the invariant checker stays clean throughout.
    @Test func tradesStoredBeforeThePackedFormStillReadCloseAndVoid() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let gina = try await stores.player("gina", balance: Money(cents: 100_000))
            _ = try await stores.tick("BTC", "50000")
            let before = try await stores.placed(gina.userID, "BTC", .up, 1000, leverage: 10, seconds: 1)
            #expect(
                await eventually {
                    _ = try await stores.tick("BTC", "50000")
                    _ = try await stores.settler.process(symbol: "BTC")
                    return try await stores.trades.trade(id: before.id)?.status == .even
                })
            let closed = try #require(try await stores.trades.trade(id: before.id))
            // Liquidation at 45,000 (up, leverage 10); at 75,000 (down, leverage 2).
            let expiring = try await stores.placed(gina.userID, "BTC", .down, 2000, leverage: 5, seconds: 1)
            let stopping = try await stores.placed(gina.userID, "BTC", .up, 1000, leverage: 10, seconds: 3600)
            let voiding = try await stores.placed(gina.userID, "BTC", .down, 500, leverage: 2, seconds: 3600)
            for trade in [closed, expiring, stopping, voiding] { try await storeAsBeforeThePackedForm(trade, redis) }
            #expect(try await redis.hget(Self.keys.trade(stopping.id), Trade.Terms.field) == nil)

            // They read as they were stored, and check out.
            let ids = [before.id, expiring.id, stopping.id, voiding.id]
            #expect(try await stores.trades.trades(ids: ids) == [closed, expiring, stopping, voiding])
            try await stores.expectClean()

            // The open ones void, stop out and expire through the scripts of the packed form.
            guard case .voided(let voided) = try await stores.trades.void(id: voiding.id, reason: "delisted") else {
                Issue.record("not voided")
                return
            }
            #expect(voided.status == .void && voided.payout == voiding.stake && voided.voidReason == "delisted")
            #expect(
                await eventually {
                    _ = try await stores.tick("BTC", "45000")
                    _ = try await stores.settler.process(symbol: "BTC")
                    return try await stores.trades.trade(id: expiring.id)?.status != .open
                })
            let ended = try await stores.trades.trades(ids: [expiring.id, stopping.id])
            // Down at leverage 5 from 50,000 to 45,000: +10 % × 5 of 20.00.
            #expect(ended.map(\.status) == [.won, .lost] && ended.map(\.closedBy) == [.expiry, .stopOut])
            #expect(ended.map(\.payout) == [Money(cents: 3000), Money(cents: 0)])
            #expect(ended.map(\.leverage) == [5, 10] && ended.map(\.start) == [expiring.start, stopping.start])
            #expect(try await stores.balance(gina.userID) == Money(cents: 100_000 - 1000 + 1000 - 2000 + 3000 - 1000))
            try await stores.expectClean()
        }
    }

    /// Trades placed before the symbol's open-trade terms existed (`RedisKeys.openTradeTerms`) are not
    /// in them: `close_trades` and the worker read them from their hashes instead, and they expire, stop
    /// out and void as the others do, beside trades that are there, in the same calls.
    @Test func tradesPlacedBeforeTheOpenTradeTermsStillCloseAndVoid() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let hugo = try await stores.player("hugo", balance: Money(cents: 100_000))
            _ = try await stores.tick("BTC", "50000")
            // Liquidation at 45,000 (up, leverage 10).
            let expiring = try await stores.placed(hugo.userID, "BTC", .down, 2000, leverage: 5, seconds: 1)
            let inTerms = try await stores.placed(hugo.userID, "BTC", .up, 1000, leverage: 1, seconds: 1)
            let stopping = try await stores.placed(hugo.userID, "BTC", .up, 1000, leverage: 10, seconds: 3600)
            let voiding = try await stores.placed(hugo.userID, "BTC", .down, 500, leverage: 2, seconds: 3600)
            let terms = Self.keys.openTradeTerms("BTC")
            func listed() async throws -> Int { try await redis.send(RedisCommand("HLEN", terms)).int(for: "HLEN") }
            #expect(try await listed() == 4)
            _ = try await redis.send(RedisCommand("HDEL", terms, expiring.id, stopping.id, voiding.id))
            try await stores.expectClean()

            guard case .voided = try await stores.trades.void(id: voiding.id, reason: "delisted") else {
                Issue.record("not voided")
                return
            }
            #expect(
                await eventually {
                    _ = try await stores.tick("BTC", "45000")
                    _ = try await stores.settler.process(symbol: "BTC")
                    return try await stores.trades.trades(ids: [expiring.id, inTerms.id]).allSatisfy { $0.status != .open }
                })
            let ended = try await stores.trades.trades(ids: [expiring.id, inTerms.id, stopping.id])
            // Down at leverage 5 from 50,000 to 45,000: +10 % × 5 of 20.00; up at leverage 1: -10 % of 10.00.
            #expect(ended.map(\.status) == [.won, .lost, .lost] && ended.map(\.closedBy) == [.expiry, .expiry, .stopOut])
            #expect(ended.map(\.payout) == [Money(cents: 3000), Money(cents: 900), Money(cents: 0)])
            #expect(try await stores.balance(hugo.userID) == Money(cents: 100_000 - 2000 - 1000 - 1000 + 3000 + 900))
            #expect(try await listed() == 0)
            try await stores.expectClean()
        }
    }

    /// A symbol's open-trade terms hold MessagePack (`Trade.Terms.init(openEntry:)`), unless a number would
    /// not be exact in Lua (a `down` liquidation price beyond 2^53 units), and then the text of
    /// `Trade.Terms.field`, which is also how entries were written before. Both forms read back as the
    /// trade's terms and close in the same call.
    @Test func openTradeEntriesInEitherFormReadAndClose() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let iris = try await stores.player("iris", balance: Money(cents: 100_000))
            // Down at leverage 1: the liquidation price is twice the start, beyond 2^53 units.
            _ = try await stores.tick("BTC", "90000000")
            let huge = try await stores.placed(iris.userID, "BTC", .down, 500, leverage: 1, seconds: 1)
            #expect(try #require(huge.liquidationPrice).units > 1 << 53)
            _ = try await stores.tick("BTC", "50000")
            let binary = try await stores.placed(iris.userID, "BTC", .up, 1000, leverage: 1, seconds: 1)
            let rewritten = try await stores.placed(iris.userID, "BTC", .down, 2000, leverage: 5, seconds: 1)
            let terms = Self.keys.openTradeTerms("BTC")
            let text = try #require(try await redis.hget(Self.keys.trade(rewritten.id), Trade.Terms.field))
            _ = try await redis.hset(terms, [rewritten.id: text])

            var digitFirst: [Bool] = []
            for trade in [binary, rewritten, huge] {
                let reply = try await redis.send(RedisCommand("HGET", terms, trade.id))
                guard case .bulkString(let entry) = reply else {
                    Issue.record("no entry for \(trade.id)")
                    return
                }
                digitFirst.append(reply.string?.first.map { $0.isASCII && $0.isNumber } ?? false)
                #expect(Trade.Terms(openEntry: entry) == trade.terms)
            }
            #expect(digitFirst == [false, true, true])
            try await stores.expectClean()

            #expect(
                await eventually {
                    _ = try await stores.tick("BTC", "45000")
                    _ = try await stores.settler.process(symbol: "BTC")
                    return try await stores.trades.trades(ids: [binary.id, rewritten.id, huge.id]).allSatisfy { $0.status != .open }
                })
            let ended = try await stores.trades.trades(ids: [binary.id, rewritten.id, huge.id])
            // Up at leverage 1: -10 % of 10.00; down at leverage 5: +10 % × 5 of 20.00; down at leverage 1
            // from 90,000,000 to 45,000: +99.95 % of 5.00, rounded down to the cent.
            #expect(ended.map(\.status) == [.lost, .won, .won])
            #expect(ended.map(\.payout) == [Money(cents: 900), Money(cents: 3000), Money(cents: 999)])
            #expect(try await redis.send(RedisCommand("HLEN", terms)).int(for: "HLEN") == 0)
            try await stores.expectClean()
        }
    }

    /// Rewrites a trade's hash as `place_trade` and `close_trades` wrote it before the packed form, and
    /// takes it out of its symbol's open-trade terms, which came later.
    func storeAsBeforeThePackedForm(_ trade: Trade, _ redis: RedisClient) async throws {
        var fields = [
            "user_id", String(trade.userID), "account_id", String(trade.accountID), "symbol", trade.symbol, "direction",
            trade.direction.rawValue, "stake", String(trade.stake.cents), "leverage", String(trade.leverage), "duration",
            String(trade.duration), "start_tick", trade.start.id, "start_price", String(trade.start.price.units), "liquidation_price",
            String(trade.liquidationPrice?.units ?? 0), "created_at", String(trade.createdAt), "expires_at", String(trade.expiresAt),
            "status", trade.status.rawValue,
        ]
        if let closedBy = trade.closedBy, let end = trade.end, let profit = trade.profit, let payout = trade.payout,
            let settledAt = trade.settledAt
        {
            fields += [
                "closed_by", closedBy.rawValue, "end_tick", end.id, "end_price", String(end.price.units), "profit", String(profit.cents),
                "payout", String(payout.cents), "settled_at", String(settledAt),
            ]
        }
        let key = Self.keys.trade(trade.id)
        _ = try await redis.send(RedisCommand("HDEL", Self.keys.openTradeTerms(trade.symbol), trade.id))
        _ = try await redis.send(RedisCommand("DEL", key))
        _ = try await redis.send(RedisCommand("HSET", arguments: [key] + fields))
    }
}
