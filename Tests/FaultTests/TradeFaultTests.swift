import BetMaker
import RedisClient
import TestSupport
import Testing

/// Trades under a Redis crash: every trade closes exactly once, from what the append-only file kept.
@Suite struct TradeFaultTests {
    @Test func redisKilledWhileTradesCloseSettlesEachOnceAfterTheRestart() async throws {
        try await withBetMakerSystem { system in
            let keys = BetMakerSystem.keys
            let store = TradeStore(redis: system.redis, keys: keys, ids: IDGenerator(node: 12))
            let accounts = AccountStore(redis: system.redis, keys: keys)
            guard case .created(let user, let account, _) = try await accounts.register(login: "crash", passwordHash: "x", active: true),
                case .credited = try await accounts.deposit(
                    transactionID: "crash", userID: user.id, accountID: account.id, amount: Money(cents: 10_000_000))
            else { throw TestSupportError("no funded user") }
            try await store.prices.record(symbol: "ETH", price: Price(units: 300_000_000_000), source: "test")
            let count = 3000
            for index in 0..<count {
                let order = TradeStore.Order(
                    symbol: "ETH", direction: index % 2 == 0 ? .up : .down, stake: Money(cents: 100), leverage: 1 + index % 30, duration: 1)
                guard
                    case .placed = try await store.place(order, userID: user.id, maximumQuoteAge: .seconds(600), toleranceBasisPoints: 0)
                else { throw TestSupportError("trade \(index) not placed") }
            }
            // They open at the next tick, at the same price.
            let opening = try await store.prices.record(symbol: "ETH", price: Price(units: 300_000_000_000), source: "test")
            #expect(try await TradeSettler(redis: system.redis, keys: keys).process(symbol: "ETH").opened == count)
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            // -1 %: the down trades win, the up trades lose part of their stake, none is stopped out.
            try await store.prices.record(symbol: "ETH", price: Price(units: 297_000_000_000), source: "test")

            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, name: "crash", settings: ["PRICE_FEED": "none", "TRADE_BATCH_SIZE": "20", "TRADE_POLL_MS": "20"])
            let due = keys.dueTrades("ETH")
            #expect(await eventually(every: .milliseconds(2)) { try await system.redis.zcard(due) < count - 200 })
            await system.redisServer.kill()
            try await system.redisServer.launch()
            #expect(await eventually(timeout: .seconds(120)) { try await system.redis.zcard(due) == 0 })
            // The payouts go through the symbol's credits outbox; the worker's credit relay applies them.
            func payouts() async throws -> [String] {
                try await system.redis.xrange(keys.ledger(user.id)).filter { $0.fields?["type"] == "payout" }.compactMap {
                    $0.fields?["trade_id"]
                }
            }
            #expect(await eventually(timeout: .seconds(120)) { try await payouts().count >= count })
            await worker.stop()

            let payouts = try await payouts()
            // Every trade pays something back (the largest loss is 30 % of the stake), once.
            #expect(payouts.count == count && Set(payouts).count == count)
            let report = try await InvariantChecker(redis: system.redis, keys: keys).check()
            #expect(report.isClean, "\(report.violations.prefix(10))")
        }
    }
}
