import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import RedisClient
import Testing

extension OpenAPIContractTests {
    /// How `realAnswersFitTheDocument` sends a request and checks the answer against the document:
    /// status, method, URI, body, headers, problem type.
    typealias ContractCall = (
        HTTPResponse.Status, HTTPRequest.Method, String, String?, HTTPFields, String?, SourceLocation
    ) async throws -> TestResponse

    /// Email sign-up and trades, part of `realAnswersFitTheDocument` (which counts every answer seen).
    static func signUpAndTradeAnswers(
        _ send: ContractCall, redis: RedisClient, admin: HTTPFields, player asCarol: HTTPFields
    ) async throws {
        @discardableResult
        func call(
            _ status: HTTPResponse.Status, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
            headers: HTTPFields = [:], problem: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> TestResponse {
            try await send(status, method, uri, body, headers, problem, sourceLocation)
        }

        // Email sign-up (the simulated ESP, in Redis), and the contacts' administration.
        let firstPlay = try await call(.ok, .post, "/plays", #"{"email": " Jo.Player@Example.com "}"#)
        #expect(firstPlay["in_db"] == .bool(false) && firstPlay["email"] == .string("jo.player@example.com"))
        let secondPlay = try await call(.ok, .post, "/plays", #"{"email": "JO.player@example.com"}"#, headers: asCarol)
        #expect(secondPlay["in_db"] == .bool(true) && secondPlay["game_count"] == .number("2"))
        try await call(.ok, .post, "/plays", #"{"email": "sam@example.org"}"#)
        try await call(.unprocessableContent, .post, "/plays", #"{"email": "not an address"}"#, problem: "validation")
        try await call(.ok, .get, try nextPage(try await call(.ok, .get, "/admin/contacts?limit=1", headers: admin)), headers: admin)
        try await call(.unprocessableContent, .get, "/admin/contacts?cursor=Jo.Player%40example.com", headers: admin)
        try await call(.noContent, .delete, "/admin/contacts/Jo.Player%40example.com", headers: admin)
        try await call(.notFound, .delete, "/admin/contacts/jo.player%40example.com", headers: admin)
        try await call(.unprocessableContent, .delete, "/admin/contacts/%ZZ", headers: admin, problem: "validation")

        // Trades, priced from a tick recorded as the worker records them: placed (also through the
        // original API's alias), refused, read, listed in pages.
        let trades = TradeStore(redis: redis, keys: RedisKeys(prefix: "t:"), ids: IDGenerator(node: 3))
        try await trades.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
        try await call(.ok, .get, "/crypto/quotes")
        let order = #"{"symbol": "BTC", "direction": "up", "amount": "1.00", "leverage": 10, "duration": 60"#
        let trade = try await call(.created, .post, "/trades", order + "}", headers: asCarol + [.idempotencyKey: "trade-1"])
        let tradeID = try #require(trade["id"]?.string)
        let alias = #"{"exchange": "BTC", "bet_amount": 1, "leverage": 2, "direction": "down", "time": 60}"#
        let aliasID = try #require(try await call(.created, .post, "/api/v1/trade_it", alias, headers: asCarol)["id"]?.string)
        try await call(.conflict, .post, "/trades", order + #", "start_price": 60000}"#, headers: asCarol, problem: "price-moved")
        try await call(
            .unprocessableContent, .post, "/trades", order.replacingOccurrences(of: "\"up\"", with: "\"down\"") + "}",
            headers: asCarol + [.idempotencyKey: "trade-1"], problem: "idempotency-key-reused")
        try await call(.forbidden, .post, "/trades", order + "}", headers: admin, problem: "staff-may-not-bet")
        try await call(.forbidden, .post, "/api/v1/trade_it", alias, headers: admin, problem: "staff-may-not-bet")
        try await call(
            .conflict, .post, "/api/v1/trade_it", alias.replacingOccurrences(of: "\"bet_amount\": 1", with: "\"bet_amount\": 90000"),
            headers: asCarol, problem: "insufficient-funds")
        try await call(
            .unprocessableContent, .post, "/trades",
            #"{"symbol": "DOGE", "direction": "sideways", "amount": 0, "leverage": 0, "duration": 1}"#,
            headers: asCarol, problem: "validation")
        try await call(.unprocessableContent, .post, "/api/v1/trade_it", #"{"exchange": "BTC"}"#, headers: asCarol, problem: "validation")
        try await call(.ok, .get, "/trades/\(tradeID)", headers: admin)
        try await call(.ok, .get, "/trades/\(tradeID)", headers: asCarol)
        try await call(.notFound, .get, "/trades/BTC~000000000000", headers: asCarol)
        try await call(.unprocessableContent, .get, "/trades/%ZZ", headers: asCarol, problem: "validation")
        try await call(.ok, .get, "/api/v1/trade_status/\(tradeID)", headers: asCarol)
        try await call(.notFound, .get, "/api/v1/trade_status/BTC~000000000000", headers: asCarol)
        try await call(.unprocessableContent, .get, "/api/v1/trade_status/%ZZ", headers: asCarol, problem: "validation")
        try await call(.ok, .get, try nextPage(try await call(.ok, .get, "/trades?limit=1", headers: asCarol)), headers: asCarol)
        try await call(.ok, .get, "/trades?status=pending", headers: asCarol)
        try await call(.unprocessableContent, .get, "/trades?status=closed", headers: asCarol, problem: "validation")

        // An administrator voids a trade that cannot be priced (this one still pending); a player may not;
        // a closed one stays closed.
        let void = "/trades/\(tradeID)/void"
        try await call(.forbidden, .post, void, #"{"reason": "delisted"}"#, headers: asCarol, problem: "forbidden")
        try await call(.unprocessableContent, .post, void, #"{"reason": ""}"#, headers: admin, problem: "validation")
        try await call(.notFound, .post, "/trades/BTC~000000000000/void", #"{"reason": "delisted"}"#, headers: admin)
        let voided = try await call(.ok, .post, void, #"{"reason": "delisted"}"#, headers: admin)
        #expect(voided["status"] == .string("void") && voided["payout"] == .string("1.00") && voided["closed_by"] == .string("void"))
        try await call(.ok, .post, void, #"{"reason": "again"}"#, headers: admin)
        #expect(elements(try await call(.ok, .get, "/trades?status=void", headers: asCarol).json).count == 1)
        // A tick under its liquidation price stops the next one out: closed, it can no longer be voided.
        let stopped = try #require(try await call(.created, .post, "/trades", order + "}", headers: asCarol)["id"]?.string)
        let settler = TradeSettler(redis: redis, keys: RedisKeys(prefix: "t:"), batchSize: 10)
        // The next tick opens it and the alias's trade; the one after stops it out.
        try await trades.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
        #expect(try await settler.process(symbol: "BTC").opened == 2)
        try await call(.ok, .get, "/trades/\(stopped)", headers: asCarol)
        try await trades.prices.record(symbol: "BTC", price: Price(units: 4_000_000_000_000), source: "test")
        #expect(try await settler.process(symbol: "BTC").stoppedOut == 1)
        let closed = try await call(
            .conflict, .post, "/trades/\(stopped)/void", #"{"reason": "late"}"#, headers: admin, problem: "trade-not-open")
        #expect(closed["current_status"] == .string("lost"))

        // Trades the worker parked (`close_trades` refused them at their closing tick), as `TradeSettler`
        // parks them: listed; re-driven once when they can close, refused while they cannot.
        try await call(.ok, .get, "/admin/trade-dead-letters", headers: admin)
        let early = try #require(try await call(.created, .post, "/trades", order + "}", headers: asCarol)["id"]?.string)
        try await trades.prices.record(symbol: "BTC", price: Price(units: 4_000_000_000_000), source: "test")
        #expect(try await settler.process(symbol: "BTC").opened == 1)
        let spike = try await trades.prices.record(symbol: "BTC", price: Price(units: 10_000_000_000_000), source: "test")
        let keys = RedisKeys(prefix: "t:")
        for (id, step) in [(aliasID, "stop_out"), (early, "expiry")] {
            let parked = try await redis.eval(
                Scripts.parkTrade,
                keys: [
                    keys.dueTrades("BTC"), keys.openTrades("BTC", .up), keys.openTrades("BTC", .down), keys.openTradeTerms("BTC"),
                    keys.tradeDeadLetters("BTC"),
                ],
                arguments: [id, step, spike.id, String(spike.price.units), "refused in a test", "BTC", "t:"])
            #expect(try parked.strings(for: "park_trade") == ["parked"])
        }
        #expect(elements(try await call(.ok, .get, "/admin/trade-dead-letters", headers: admin).json).count == 2)
        let redriven = try await call(.ok, .post, "/admin/trade-dead-letters/\(aliasID)/retry", headers: admin)
        #expect(redriven["status"] == .string("lost") && redriven["closed_by"] == .string("stop_out"))
        try await call(.notFound, .post, "/admin/trade-dead-letters/\(aliasID)/retry", headers: admin)
        try await call(
            .conflict, .post, "/admin/trade-dead-letters/\(early)/retry", headers: admin, problem: "trade-dead-letter-not-retryable")
        try await call(.unauthorized, .get, "/admin/trade-dead-letters", problem: "authentication-required")
        try await call(.forbidden, .get, "/admin/trade-dead-letters", headers: asCarol, problem: "forbidden")
        try await call(.unauthorized, .post, "/admin/trade-dead-letters/\(early)/retry", problem: "authentication-required")
        try await call(.forbidden, .post, "/admin/trade-dead-letters/\(early)/retry", headers: asCarol, problem: "forbidden")
    }
}
