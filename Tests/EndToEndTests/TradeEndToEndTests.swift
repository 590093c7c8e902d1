import Adapters
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Trades through the real processes: the worker reads a fake CoinMarketCap over HTTP and records its
/// ticks, the API prices trades from Redis, the worker closes them.
@Suite struct TradeEndToEndTests {
    static func quote(_ system: System, _ symbol: String) async throws -> [String: String]? {
        let reply = try await system.request(.GET, "/crypto/quotes")
        guard case .array(let quotes)? = reply.json else { return nil }
        for case .object(let members) in quotes {
            var quote: [String: String] = [:]
            for member in members { if case .string(let text) = member.value { quote[member.key] = text } }
            if quote["symbol"] == symbol { return quote }
        }
        return nil
    }

    /// The feed settings the API and the worker share, as one `.env` gives them: the shortest trade is
    /// two feed intervals, the least `TRADE_MIN_SECONDS` may be.
    static func feed(_ cmc: FakeCoinMarketCap) -> [String: String] {
        [
            "PRICE_FEED": "coinmarketcap", "CMC_API_KEY": "test-key", "CMC_BASE_URL": cmc.baseURL, "CMC_REFRESH_SECONDS": "1",
            "TRADE_MIN_SECONDS": "2",
        ]
    }

    /// The trade as the API shows it, once its status is one of `statuses`.
    static func trade(_ system: System, _ id: String, token: String, once statuses: Set<String>) async throws -> BetMakerSystem.Reply? {
        var shown: BetMakerSystem.Reply?
        guard
            await eventually({
                shown = try await system.request(.GET, "/trades/\(id)", token: token)
                return statuses.contains(shown?.string["status"] ?? "")
            })
        else { return nil }
        return shown
    }

    @Test func aTradeIsPricedFromCoinMarketCapThroughRedisAndSettledByTheWorker() async throws {
        let cmc = try await FakeCoinMarketCap.start()
        defer { Task { await cmc.shutdown() } }
        cmc.set(price: "50000", for: "BTC")
        cmc.set(price: "3000.123456785", for: "ETH")
        try await withSystem(apiSettings: Self.feed(cmc)) { system in
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: Self.feed(cmc).merging(["TRADE_POLL_MS": "20"]) { $1 })
            defer { Task { await worker.stop() } }
            // The worker's reads reach Redis; the API shows them, rounded to 8 places half to even.
            #expect(await eventually { try await Self.quote(system, "ETH")?["price"] == "3000.12345678" })
            #expect(try await Self.quote(system, "BTC")?["source"] == "coinmarketcap")
            #expect(cmc.requests.allSatisfy { $0.apiKey == "test-key" && $0.uri.contains("symbol=BTC,ETH") })

            let player = try await WalletEndToEndTests.player(system, "trader")
            let deposit = WalletEndToEndTests.webhookBody(
                transactionID: "pay-t", userID: player.userID, accountID: player.accountID, amount: "100")
            #expect(try await system.request(.POST, "/payment/webhook", json: deposit).status == 200)
            // Two feed intervals (2 s) are the shortest trade.
            let short = try await system.request(
                .POST, "/trades", json: #"{"symbol": "BTC", "direction": "up", "amount": "10.00", "leverage": 10, "duration": 1}"#,
                token: player.token)
            #expect(short.status == 422 && short.body.contains("duration"), "\(short.body)")
            let placed = try await system.request(
                .POST, "/trades", json: #"{"symbol": "BTC", "direction": "up", "amount": "10.00", "leverage": 10, "duration": 4}"#,
                token: player.token)
            #expect(placed.status == 201, "\(placed.body)")
            let id = try #require(placed.string["id"])
            // Accepted pending: the start price is the next tick's, unknown yet.
            #expect(placed.headers.first(name: "Location") == "/trades/\(id)" && placed.string["status"] == "pending")
            #expect(placed["start"] == .null && placed["expires_at"] == .null && placed["liquidation_price"] == .null)
            // The original service's `time` counts minutes (TradeRulesTests covers its call); this trade,
            // read through its `trade_status`, lasts 4 seconds.
            let alias = try await system.request(
                .POST, "/trades",
                json: #"{"symbol": "BTC", "amount": 5, "leverage": 2, "direction": "down", "duration": 4, "start_price": 50000}"#,
                token: player.token)
            #expect(alias.status == 201, "\(alias.body)")
            let aliasID = try #require(alias.string["id"])
            #expect(try await WalletEndToEndTests.balance(system, player.token) == "85.00")
            // The worker's next read of CoinMarketCap opens both.
            let opened = try #require(try await Self.trade(system, id, token: player.token, once: ["open"]))
            #expect(opened.string["liquidation_price"] == "45000.00000000", "\(opened.body)")
            #expect(try await Self.trade(system, aliasID, token: player.token, once: ["open"]) != nil)
            let status = try await system.request(.GET, "/api/v1/trade_status/\(aliasID)", token: player.token)
            #expect(status.string == ["status": "pending"], "\(status.body)")

            // +1 %: the up trade wins 10.00 × 10 × 1 % = 1.00; the down trade at leverage 2 loses 0.10.
            cmc.set(price: "50500", for: "BTC")
            #expect(
                await eventually {
                    let alias = try await system.request(.GET, "/api/v1/trade_status/\(aliasID)", token: player.token)
                    let trade = try await system.request(.GET, "/trades/\(id)", token: player.token)
                    return alias.string["status"] == "completed" && trade.string["status"] == "won"
                })
            let won = try await system.request(.GET, "/trades/\(id)", token: player.token)
            #expect(won.string["profit"] == "1.00" && won.string["payout"] == "11.00" && won.string["closed_by"] == "expiry", "\(won.body)")
            let completed = try await system.request(.GET, "/api/v1/trade_status/\(aliasID)", token: player.token)
            #expect(completed.string == ["status": "completed", "result": "L", "profit": "-0.10"], "\(completed.body)")
            #expect(try await WalletEndToEndTests.balance(system, player.token) == "100.90")
            // Another user sees neither.
            let other = try await WalletEndToEndTests.player(system, "nosy")
            #expect(try await system.request(.GET, "/trades/\(id)", token: other.token).status == 404)

            // CoinMarketCap failing: no ticks, so the price ages; the worker keeps asking with backoff.
            cmc.set(.status(500))
            let before = cmc.requests.count
            #expect(await eventually { cmc.requests.count > before })
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }

    /// Issue 28, point 3, through the real processes: CoinMarketCap has moved to 55,000 and the player
    /// knows it before the worker records it; the trade opens at that next price, so betting on the
    /// move already made wins nothing (before, it started at 50,000 and won 1.00).
    @Test func aPlayerWhoKnowsTheNextRecordedPriceGainsNothing() async throws {
        let cmc = try await FakeCoinMarketCap.start()
        defer { Task { await cmc.shutdown() } }
        cmc.set(price: "50000", for: "BTC")
        cmc.set(price: "3000", for: "ETH")
        try await withSystem(apiSettings: Self.feed(cmc)) { system in
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: Self.feed(cmc).merging(["TRADE_POLL_MS": "20"]) { $1 })
            defer { Task { await worker.stop() } }
            #expect(await eventually { try await Self.quote(system, "BTC")?["price"] == "50000.00000000" })
            let player = try await WalletEndToEndTests.player(system, "insider")
            let deposit = WalletEndToEndTests.webhookBody(
                transactionID: "pay-i", userID: player.userID, accountID: player.accountID, amount: "100")
            #expect(try await system.request(.POST, "/payment/webhook", json: deposit).status == 200)
            // The feed pauses (the quote stays fresh for MAX_QUOTE_AGE_SECONDS), the market moves +1 %.
            cmc.set(.status(503))
            let failing = cmc.requests.count
            #expect(await eventually { cmc.requests.count > failing })
            cmc.set(price: "50500", for: "BTC")
            let placed = try await system.request(
                .POST, "/trades", json: #"{"symbol": "BTC", "direction": "up", "amount": "10.00", "leverage": 10, "duration": 2}"#,
                token: player.token)
            #expect(placed.status == 201 && placed.string["status"] == "pending", "\(placed.body)")
            let id = try #require(placed.string["id"])
            cmc.set(.prices)
            let opened = try #require(try await Self.trade(system, id, token: player.token, once: ["open"]))
            guard case .object(let start)? = opened["start"] else { throw TestSupportError("no start: \(opened.body)") }
            #expect(start.first { $0.key == "price" }?.value == .string("50500.00000000"), "\(opened.body)")
            let closed = try #require(try await Self.trade(system, id, token: player.token, once: ["won", "lost", "even"]))
            #expect(closed.string["status"] == "even" && closed.string["profit"] == "0.00" && closed.string["payout"] == "10.00")
            #expect(try await WalletEndToEndTests.balance(system, player.token) == "100.00")
        }
    }

    /// 10,000 trades due in the same second settle once each although the worker is SIGKILLed halfway,
    /// then finished by two workers at once.
    @Test func tenThousandDueTradesSettleOnceThroughAKilledWorkerAndTwoMore() async throws {
        try await withSystem { system in
            let keys = System.keys
            let store = TradeStore(redis: system.redis, keys: keys, ids: IDGenerator(node: 11))
            let accounts = AccountStore(redis: system.redis, keys: keys)
            guard case .created(let user, let account, _) = try await accounts.register(login: "whale", passwordHash: "x", active: true),
                case .credited = try await accounts.deposit(
                    transactionID: "whale", userID: user.id, accountID: account.id, amount: Money(cents: 100_000_000))
            else { throw TestSupportError("no whale") }
            _ = try await store.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            let count = 10_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for part in 0..<8 {
                    group.addTask {
                        for index in stride(from: part, to: count, by: 8) {
                            let order = TradeStore.Order(
                                symbol: "BTC", direction: index % 2 == 0 ? .up : .down, stake: Money(cents: 100 + Int64(index % 7)),
                                leverage: 1 + index % 50, duration: 1)
                            guard
                                case .placed = try await store.place(
                                    order, userID: user.id, maximumQuoteAge: .seconds(600), toleranceBasisPoints: 0)
                            else { throw TestSupportError("trade \(index) not placed") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // They open at the next tick, at the same price (the worker's code, in this process).
            let opening = try await store.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            #expect(try await TradeSettler(redis: system.redis, keys: keys).process(symbol: "BTC").opened == count)
            #expect(await eventually { currentMilliseconds() > opening.time + 1000 })
            // One tick after every expiry: +0.5 %, stopping out nobody (the most leveraged trade, 50, would need 2 %).
            _ = try await store.prices.record(symbol: "BTC", price: Price(units: 5_025_000_000_000), source: "test")

            // Credits the killed worker's relay read and did not apply are claimed by the others after a second.
            let settings = [
                "PRICE_FEED": "none", "TRADE_BATCH_SIZE": "50", "TRADE_POLL_MS": "20", "WORKER_CLAIM_MIN_IDLE_MS": "1000",
                "WORKER_CLAIM_INTERVAL_MS": "200",
            ]
            let first = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "trades-1", settings: settings)
            let due = keys.dueTrades("BTC")
            #expect(await eventually(every: .milliseconds(2)) { try await system.redis.zcard(due) < count / 2 })
            _ = await first.kill9()
            let left = try await system.redis.zcard(due)
            #expect(left > 0, "the worker finished before it was killed")

            let second = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "trades-2", settings: settings)
            let third = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "trades-3", settings: settings)
            #expect(await eventually { try await system.redis.zcard(due) == 0 })
            // The payouts go through the symbol's credits outbox; the workers' credit relays apply them.
            func payouts() async throws -> [String] {
                try await system.redis.xrange(keys.ledger(user.id)).filter { $0.fields?["type"] == "payout" }.compactMap {
                    $0.fields?["trade_id"]
                }
            }
            #expect(await eventually { try await payouts().count >= count })
            await second.stop()
            await third.stop()

            let payouts = try await payouts()
            #expect(payouts.count == count && Set(payouts).count == count)
            let report = try await InvariantChecker(redis: system.redis, keys: keys).check()
            #expect(report.isClean, "\(report.violations.prefix(10))")
        }
    }
}
