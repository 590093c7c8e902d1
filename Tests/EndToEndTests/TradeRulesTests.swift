import BetMaker
import BetMakerRuntime
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The rules of trades (issue 28) through the real processes: the worker closes trades from the ticks a
/// test records, the API takes the players' and the administrators' calls.
@Suite struct TradeRulesTests {
    /// A funded player: user id, account id, token.
    static func fundedPlayer(
        _ system: System, _ login: String, amount: String = "1000"
    ) async throws -> (
        userID: Int, accountID: Int, token: String
    ) {
        let player = try await WalletEndToEndTests.player(system, login)
        let deposit = WalletEndToEndTests.webhookBody(
            transactionID: "pay-\(login)", userID: player.userID, accountID: player.accountID, amount: amount)
        let credited = try await system.request(.POST, "/payment/webhook", json: deposit)
        guard credited.status == 200 else { throw TestSupportError("no deposit for \(login): \(credited.body)") }
        return player
    }

    static func trade(_ system: System, _ id: String, _ token: String) async throws -> System.Reply {
        try await system.request(.GET, "/trades/\(id)", token: token)
    }

    static func string(_ value: JSONValue, _ key: String) -> String? {
        guard case .object(let members) = value, case .string(let text)? = members.first(where: { $0.key == key })?.value else {
            return nil
        }
        return text
    }

    /// Point 14. The original service documents `POST /api/v1/trade_it/` with `"time": 5`: five minutes
    /// (its prices come from CoinMarketCap, about once a minute). The alias takes that request as
    /// documented; a `start_price` far from the market is refused with a problem that says why.
    @Test func theOriginalServicesDocumentedCallWorks() async throws {
        try await withSystem { system in
            let prices = PriceStore(redis: system.redis, keys: System.keys)
            try await prices.record(symbol: "BTC", price: Price(units: 50_000 * Price.scale), source: "test")
            let player = try await Self.fundedPlayer(system, "original")
            let documented = #"{"exchange": "BTC", "bet_amount": 100, "leverage": 10, "direction": "up", "time": 5, "start_price": 50000}"#
            let placed = try await system.request(.POST, "/api/v1/trade_it/", json: documented, token: player.token)
            #expect(placed.status == 201, "\(placed.body)")
            #expect(placed["duration"] == .number("300"), "five minutes: \(placed.body)")
            #expect(try await WalletEndToEndTests.balance(system, player.token) == "900.00")
            // The native call keeps seconds: 5 is too short.
            let native = try await system.request(
                .POST, "/trades", json: #"{"symbol": "BTC", "direction": "up", "amount": 100, "leverage": 10, "duration": 5}"#,
                token: player.token)
            #expect(native.status == 422 && native.body.contains("duration"), "\(native.body)")

            // The market is far from the example's 50,000 now: refused, and the problem says why.
            try await prices.record(symbol: "BTC", price: Price(units: 97_000 * Price.scale), source: "test")
            let far = try await system.request(.POST, "/api/v1/trade_it/", json: documented, token: player.token)
            #expect(far.status == 409 && far.string["type"]?.hasSuffix("price-moved") == true, "\(far.body)")
            #expect(
                far.string["detail"]?.contains("97000.00000000") == true && far.string["detail"]?.contains("50000") == true, "\(far.body)")
            #expect(try await WalletEndToEndTests.balance(system, player.token) == "900.00")
        }
    }

    /// Point 5. One trade that cannot close (its owner's ledger is damaged) no longer stops its symbol:
    /// it is parked with a dead letter, the others settle, the worker counts and logs it; once the
    /// ledger is repaired, an administrator re-drives it and it closes at the tick it was parked at.
    @Test func aTradeThatCannotCloseIsParkedAndTheRestOfItsSymbolSettles() async throws {
        try await withSystem(apiSettings: ["TRADE_MIN_SECONDS": "2"]) { system in
            let keys = System.keys
            let prices = PriceStore(redis: system.redis, keys: keys)
            let workerPort = try freeLoopbackPort()
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment,
                settings: ["PRICE_FEED": "none", "TRADE_POLL_MS": "20", "WORKER_HTTP_PORT": "\(workerPort)", "TRADE_MIN_SECONDS": "2"])
            defer { Task { await worker.stop() } }
            try await prices.record(symbol: "BTC", price: Price(units: 50_000 * Price.scale), source: "test")
            let admin = try await WorkflowTests.seededAdmin(system)
            let good = try await Self.fundedPlayer(system, "good")
            let damaged = try await Self.fundedPlayer(system, "damaged")
            let order = #"{"symbol": "BTC", "direction": "up", "amount": "100.00", "leverage": 10, "duration": 2}"#
            var ids: [String] = []
            for player in [good, damaged] {
                let placed = try await system.request(.POST, "/trades", json: order, token: player.token)
                #expect(placed.status == 201, "\(placed.body)")
                ids.append(try #require(placed.string["id"]))
            }
            // The next tick opens them (point 3) and closes nothing before their expiry.
            let before = try await prices.record(symbol: "BTC", price: Price(units: 50_000 * Price.scale), source: "test")
            #expect(await eventually { try await system.redis.get(keys.tickCursor("BTC")) == before.id })
            #expect(try await Self.trade(system, ids[1], damaged.token).string["status"] == "open")
            let expiry = try #require(try await Self.trade(system, ids[1], damaged.token).string["expires_at"])
            let expiresAt = try #require(Timestamp.parseRFC3339(expiry))
            #expect(await eventually { currentMilliseconds() > expiresAt + 5 })

            // The damaged trade's hash no longer says it is open (its open-trade terms still do); a tick
            // after expiry (+1 %).
            let damagedKey = keys.trade(try #require(TradeID(ids[1])))
            _ = try await system.redis.hset(damagedKey, ["status": "pending"])
            let end = try await prices.record(symbol: "BTC", price: Price(units: 50_500 * Price.scale), source: "test")

            // The good trade settles; the damaged one is parked, the cursor moves on.
            #expect(await eventually { try await Self.trade(system, ids[0], good.token).string["status"] == "won" })
            #expect(await eventually { try await system.redis.get(keys.tickCursor("BTC")) == end.id })
            let letters = try await system.request(.GET, "/admin/trade-dead-letters", token: admin)
            #expect(letters.status == 200, "\(letters.body)")
            guard case .array(let entries)? = letters.json, let letter = entries.first, entries.count == 1 else {
                Issue.record("not one dead letter: \(letters.body)")
                return
            }
            #expect(Self.string(letter, "trade_id") == ids[1] && Self.string(letter, "step") == "expiry", "\(letters.body)")
            #expect(
                Self.string(letter, "tick") == end.id && Self.string(letter, "reason")?.contains("is open in the terms") == true,
                "\(letters.body)")
            #expect(await worker.waitForOutput(containing: "Trade parked"))
            let metrics = Metrics(try await system.get("http://127.0.0.1:\(workerPort)/metrics").body)
            #expect(metrics.value("trades_parked_total", ["step": "expiry"]) == 1)
            #expect(metrics.value("trades_opened_total") == 2 && worker.output.contains("Trades opened"))

            // Re-driven before the repair: still refused, the dead letter stays.
            let retry = "/admin/trade-dead-letters/\(ids[1])/retry"
            let early = try await system.request(.POST, retry, token: admin)
            #expect(early.status == 409 && early.string["type"]?.hasSuffix("trade-dead-letter-not-retryable") == true, "\(early.body)")
            // Repaired and re-driven: closed at the tick it was parked at, the dead letter gone.
            _ = try await system.redis.hset(damagedKey, ["status": "open"])
            try await prices.record(symbol: "BTC", price: Price(units: 40_000 * Price.scale), source: "test")
            let redriven = try await system.request(.POST, retry, token: admin)
            #expect(redriven.status == 200 && redriven.string["status"] == "won", "\(redriven.body)")
            #expect(redriven["end"].flatMap { Self.string($0, "tick") } == end.id, "\(redriven.body)")
            #expect(try await WalletEndToEndTests.balance(system, damaged.token) == "1010.00")
            let none = try await system.request(.GET, "/admin/trade-dead-letters", token: admin)
            #expect(none.json == .array([]), "\(none.body)")
            #expect(try await system.request(.POST, retry, token: admin).status == 404)
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0, "\(check.output)")
        }
    }
}
