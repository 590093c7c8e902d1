import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

extension OpenAPIContractTests {
    @Test func answersWithoutRedisFitTheDocument() async throws {
        // Nothing listens on the port: every call that needs Redis is a 503 (storage-unavailable). A
        // valid token makes every operation need Redis: its user is read on every request.
        var settings = Settings.forTests(redis: RedisConfiguration(port: try freeLoopbackPort()))
        settings.redis.connectTimeout = .milliseconds(200)
        settings.paymentWebhookSecret = nil
        let redis = RedisClient(configuration: settings.redis)
        let app = Application(router: try await buildRouter(settings: settings, redis: redis), services: [redis])
        let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(60))
        let token: HTTPFields = Self.bearer(try await tokens.issue(userID: 1).token)
        try await app.test(.router) { client in
            let credentials = #"{"login": "carol", "password": "a long password"}"#
            let event = #"{"id": "x", "title": "t", "home_team": "a", "away_team": "b", "starts_at": "2030-01-01T00:00:00Z", "odds": 2}"#
            let answers: [(HTTPRequest.Method, String, String?, HTTPFields)] = [
                (.post, "/bets", #"{"event_id": 1, "amount": 1}"#, [:]),
                (.get, "/bets", nil, [:]),
                (.get, "/bets/000000000000", nil, [:]),
                (.put, "/events/1", #"{"status": "WIN"}"#, [:]),
                (.get, "/events/1", nil, [:]),
                (.get, "/events", nil, [:]),
                (.post, "/events/1/assign", #"{"trader_id": 2}"#, token),
                (.post, "/events/1/take", nil, token),
                (.post, "/events/1/void", #"{"reason": "abandoned"}"#, token),
                (.get, "/traders/me/events", nil, token),
                (.post, "/users", credentials, [:]),
                (.get, "/users/activate/" + String(repeating: "A", count: 43), nil, [:]),
                (.post, "/auth", credentials, [:]),
                (.get, "/users/me", nil, token),
                (.get, "/accounts/1", nil, token),
                (.get, "/admin/users", nil, token),
                (.patch, "/admin/users/2", #"{"active": false}"#, token),
                (.get, "/admin/traders", nil, token),
                (.get, "/admin/events", nil, token),
                (.post, "/admin/events", event, token),
                (.patch, "/admin/events/x", #"{"open": false}"#, token),
                (.delete, "/admin/events/x", nil, token),
                (.get, "/admin/dead-letters", nil, token),
                (.post, "/admin/dead-letters/0:1-0/retry", nil, token),
                (.get, "/admin/trade-dead-letters", nil, token),
                (.post, "/admin/trade-dead-letters/BTC~000000000000/retry", nil, token),
                (.post, "/plays", #"{"email": "jo@example.com"}"#, [:]),
                (.get, "/admin/contacts", nil, token),
                (.delete, "/admin/contacts/jo%40example.com", nil, token),
                (.post, "/trades", #"{"symbol": "BTC", "direction": "up", "amount": 1, "leverage": 2, "duration": 60}"#, token),
                (.get, "/trades", nil, token),
                (.get, "/trades/BTC~000000000000", nil, token),
                (.post, "/trades/BTC~000000000000/void", #"{"reason": "delisted"}"#, token),
                (.post, "/api/v1/trade_it", #"{"exchange": "BTC", "bet_amount": 1, "leverage": 2, "direction": "up", "time": 5}"#, token),
                (.get, "/api/v1/trade_status/BTC~000000000000", nil, token),
                (.get, "/crypto/quotes", nil, [:]),
                (.get, "/ui/stream", nil, token),
                (.delete, "/auth", nil, token),
            ]
            var answered: Set<String> = []
            for (method, uri, body, headers) in answers {
                let response = try await client.execute(
                    uri: uri, method: method, headers: body == nil ? headers : headers + [.contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == .serviceUnavailable, "\(method) \(uri): \(String(buffer: response.body))")
                #expect(response["type"] == .string("/problems/storage-unavailable"), "\(method) \(uri)")
                let path = try #require(Self.template(of: uri))
                answered.insert("\(method.rawValue) \(path)")
                try Self.check(response, method: method.rawValue, path: path)
            }
            // Without PAYMENT_WEBHOOK_SECRET the webhook refuses every delivery (`withoutASecretTheWebhook...`);
            // without Redis it cannot even check the store's schema version first, and says so.
            let webhook = try await client.execute(
                uri: "/payment/webhook", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(webhook.status == .serviceUnavailable && webhook["type"] == .string("/problems/storage-unavailable"))
            try Self.check(webhook, method: "POST", path: "/payment/webhook")
            answered.insert("POST /payment/webhook")

            let documented = Set(
                Self.operations.filter { $0.operation["responses"]?["503"] != nil }.map { "\($0.method.rawValue) \($0.path)" })
            #expect(documented.subtracting(answered).isEmpty, "503 documented but not seen: \(documented.subtracting(answered).sorted())")
        }
    }
}
