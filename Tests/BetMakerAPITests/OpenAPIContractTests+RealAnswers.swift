import Adapters
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
    // MARK: Real answers

    @Test func realAnswersFitTheDocument() async throws {
        try await withContractRouter { _, client, redis in
            var seen: Set<String> = []
            /// Sends a request (a body as JSON), expects `status` (and the problem `type`, if given) and
            /// checks the answer against the operation the URI is an instance of.
            @discardableResult
            func call(
                _ status: HTTPResponse.Status, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil,
                headers: HTTPFields = [:], problem: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> TestResponse {
                var fields = headers
                if body != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
                let response = try await client.execute(
                    uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) })
                let path = try #require(Self.template(of: uri), "\(uri) is not a documented path", sourceLocation: sourceLocation)
                #expect(response.status == status, "\(method) \(uri): \(String(buffer: response.body))", sourceLocation: sourceLocation)
                if let problem {
                    #expect(response["type"] == .string("/problems/" + problem), "\(method) \(uri)", sourceLocation: sourceLocation)
                }
                seen.insert("\(method.rawValue) \(path) \(response.status.code)")
                try Self.check(response, method: method.rawValue, path: path, sourceLocation: sourceLocation)
                return response
            }
            func credentials(_ login: String, _ password: String = Self.password) -> String {
                #"{"login": "\#(login)", "password": "\#(password)"}"#
            }
            func logIn(_ login: String) async throws -> HTTPFields {
                let response = try await call(.ok, .post, "/auth", credentials(login))
                #expect(response.headers[.cacheControl] == "no-store", "a token in a body is not for caches")
                return Self.bearer(try #require(response["access_token"]?.string))
            }
            /// Registers a player through the API; their id and the path of their activation link.
            func register(_ login: String) async throws -> (id: Int, activation: String) {
                let registered = try await call(.created, .post, "/users", credentials(login))
                let url = try #require(registered["activation_url"]?.string)
                let path = try #require(url.range(of: "/users/activate/").map { String(url[$0.lowerBound...]) })
                return (try #require(Self.integer(registered["user"]?["id"])), path)
            }
            let key: HTTPFields = [.apiKey: Self.resultsAPIKey]

            // Anonymous bets (the original API): placed, replayed, read, listed over two pages.
            let placed = try await call(
                .created, .post, "/bets", #"{"event_id": 42, "amount": 10.5}"#, headers: [.idempotencyKey: "key-1"])
            let id = try #require(placed["id"]?.string)
            let replayed = try await call(
                .created, .post, "/bets", #"{"event_id": 42, "amount": 10.5}"#, headers: [.idempotencyKey: "key-1"])
            #expect(replayed.headers[.idempotentReplayed] == "true")
            try await call(.created, .post, "/bets", #"{"event_id": "42", "amount": "3"}"#)
            try await call(.ok, .get, "/bets/\(id)")
            let last = try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/bets?limit=1")))
            #expect(last.headers[.link] == nil)
            try await call(.ok, .get, "/bets?event_id=42&status=pending")

            // Events: reported by the results feed, reported again, closed for bets, a conflicting result.
            try await call(.ok, .get, "/events/42")
            try await call(.accepted, .put, "/events/42", #"{"status": "WIN"}"#, headers: key)
            try await call(.accepted, .put, "/events/42", #"{"status": "WIN"}"#, headers: key)
            try await call(.conflict, .put, "/events/42", #"{"status": "LOSE"}"#, headers: key, problem: "result-conflict")
            try await call(.conflict, .post, "/bets", #"{"event_id": 42, "amount": 1}"#, problem: "event-closed")
            try await call(.ok, .get, "/events/42")
            // A server with a results key takes no anonymous results, nor a wrong key.
            try await call(.unauthorized, .put, "/events/7", #"{"status": "WIN"}"#, problem: "authentication-required")
            try await call(
                .unauthorized, .put, "/events/7", #"{"status": "WIN"}"#, headers: [.apiKey: "not-the-key"], problem: "invalid-api-key")

            // An administrator, made in the store as `make seed` does: nobody can register as one.
            let hash = try await Passwords(cost: 10).hash(Self.password)
            guard
                case .created(let adminUser, let adminAccount, _) = try await AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
                    .register(login: "admin", passwordHash: hash, role: .admin, active: true)
            else {
                Issue.record("no administrator")
                return
            }
            let admin = try await logIn("admin")

            // Players register and follow their link once; a taken login, bad input and fields nobody may set are refused.
            let carol = try await register("carol")
            try await call(.ok, .get, carol.activation)
            try await call(.notFound, .get, carol.activation)
            try await call(.conflict, .post, "/users", credentials("CAROL"), problem: "login-taken")
            try await call(.unprocessableContent, .post, "/users", #"{"login": "al", "password": "short", "role": "admin"}"#)
            // An administrator enabled erin before she followed her link, and disabled frank.
            let erin = try await register("erin")
            try await call(.ok, .patch, "/admin/users/\(erin.id)", #"{"active": true}"#, headers: admin)
            try await call(.conflict, .get, erin.activation, problem: "already-active")
            let frank = try await register("frank")
            try await call(.ok, .patch, "/admin/users/\(frank.id)", #"{"active": false}"#, headers: admin)
            try await call(.forbidden, .get, frank.activation, problem: "account-disabled")

            // Logging in: a bearer token, or the web UI's cookie, which logging out clears.
            let asCarol = try await logIn("carol")
            let session = try await call(.ok, .post, "/auth?cookie=true", credentials("carol"))
            #expect(session.headers[.cacheControl] == nil && session["access_token"] == nil, "the token is in the cookie only")
            let cookie = try #require(session.headers[.setCookie]).prefix { $0 != ";" }
            try await call(.ok, .get, "/users/me", headers: [.cookie: String(cookie)])
            // Logging out revokes the token; a cookie logout is a write like any other (CSRF).
            try await call(.forbidden, .delete, "/auth", headers: [.cookie: String(cookie)], problem: "csrf")
            try await call(
                .noContent, .delete, "/auth",
                headers: [.cookie: String(cookie), .xRequestedWith: "bet-maker", .secFetchSite: "same-origin"])
            try await call(.unauthorized, .get, "/users/me", headers: [.cookie: String(cookie)], problem: "invalid-token")
            try await call(.unauthorized, .delete, "/auth", headers: [.authorization: "Basic Y2Fyb2w6eA=="], problem: "invalid-token")
            try await call(.unauthorized, .post, "/auth", credentials("carol", "not the password"), problem: "invalid-credentials")
            try await call(.unprocessableContent, .post, "/auth", #"{"login": "carol"}"#)
            let dave = try await register("dave")
            try await call(.forbidden, .post, "/auth", credentials("dave"), problem: "account-not-activated")
            for _ in 0..<3 { try await call(.unauthorized, .post, "/auth", credentials("nobody"), problem: "invalid-credentials") }
            let locked = try await call(.tooManyRequests, .post, "/auth", credentials("nobody"), problem: "too-many-login-attempts")
            // The time left of the lock, at most the whole lockout.
            #expect(locked.headers[.retryAfter].flatMap { Int($0) }.map { (1...900).contains($0) } == true)
            // A client address whose buckets are empty (emptied here by hand: the contract router's are too
            // large to empty by asking; AbuseLimitTests empties them through the real API).
            let limited: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]
            for bucket in ["passwords", "plays"] {
                _ = try await redis.set(
                    RedisKeys(prefix: "t:").rateBucket(bucket, client: "203.0.113.9"), to: String(currentMilliseconds() + 600_000),
                    expiry: .seconds(600))
            }
            try await call(.tooManyRequests, .post, "/users", credentials("nora"), headers: limited, problem: "rate-limited")
            try await call(.tooManyRequests, .post, "/auth", credentials("carol"), headers: limited, problem: "rate-limited")
            try await call(.tooManyRequests, .post, "/plays", #"{"email": "nora@example.com"}"#, headers: limited, problem: "rate-limited")

            // The payment provider credits carol once per transaction id, signed as the document says.
            let carolAccount = try #require(
                Self.integer(Self.elements(try await call(.ok, .get, "/users/me", headers: asCarol)["accounts"]).first?["id"]))
            @discardableResult
            func deposit(
                _ status: HTTPResponse.Status, _ transaction: String, user: Int, account: Int, amount: String, problem: String? = nil,
                sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> TestResponse {
                let body = SimulatedPaymentProvider(secret: BetMakerProcesses.testPaymentSecret).webhookBody(
                    transactionID: transaction, userID: user, accountID: account, amount: amount)
                return try await call(status, .post, "/payment/webhook", body, problem: problem, sourceLocation: sourceLocation)
            }
            try await deposit(.ok, "pay-1", user: carol.id, account: carolAccount, amount: "100")
            #expect(try await deposit(.ok, "pay-1", user: carol.id, account: carolAccount, amount: "100")["replayed"] == .bool(true))
            try await deposit(.conflict, "pay-1", user: carol.id, account: carolAccount, amount: "99", problem: "transaction-conflict")
            try await deposit(
                .conflict, "pay-2", user: carol.id, account: adminAccount.id, amount: "5", problem: "account-owned-by-another-user")
            try await deposit(.conflict, "pay-3", user: 999, account: 999, amount: "5", problem: "unknown-user")
            // pay-1's signature on its values with a digit moved from the amount into the transaction id.
            let shifted = SimulatedPaymentProvider(secret: BetMakerProcesses.testPaymentSecret).webhookBody(
                transactionID: "pay-1", userID: carol.id, accountID: carolAccount, amount: "100"
            ).replacingOccurrences(of: #""pay-1""#, with: #""0pay-1""#).replacingOccurrences(of: #""amount": 100"#, with: #""amount": 10"#)
            try await call(.conflict, .post, "/payment/webhook", shifted, problem: "signature-reused")
            let forged =
                #"{"transaction_id": "pay-4", "user_id": 1, "account_id": 1, "amount": 1, "signature": "\#(String(repeating: "0", count: 64))"}"#
            try await call(.forbidden, .post, "/payment/webhook", forged, problem: "invalid-signature")
            try await call(.badRequest, .post, "/payment/webhook", #"{"transaction_id": "pay-5""#, problem: "malformed-json")
            try await call(
                .unprocessableContent, .post, "/payment/webhook", #"{"transaction_id": "", "user_id": 0, "amount": "1.001", "extra": 1}"#)

            // The catalogue: administrators add, list, change and remove events; everybody lists the open ones.
            func event(_ id: String, day: Int, odds: String = "1.85") -> String {
                #"{"id": "\#(id)", "title": "Match \#(id)", "home_team": "Reds", "away_team": "Blues", "starts_at": "2030-01-0\#(day)T18:00:00Z", "odds": "\#(odds)"}"#
            }
            let created = try await call(.created, .post, "/admin/events", event("derby", day: 1), headers: admin)
            #expect(created.headers[.location] == "/events/derby")
            try await call(.created, .post, "/admin/events", event("cup", day: 2), headers: admin)
            try await call(.created, .post, "/admin/events", event("final", day: 3, odds: "2.50"), headers: admin)
            try await call(.conflict, .post, "/admin/events", event("derby", day: 1), headers: admin, problem: "event-exists")
            try await call(.conflict, .post, "/admin/events", event("42", day: 1), headers: admin, problem: "event-has-result")
            try await call(
                .unprocessableContent, .post, "/admin/events", #"{"id": "x", "odds": "0.5", "starts_at": "soon"}"#, headers: admin)
            try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/events?limit=1")))
            try await call(.unprocessableContent, .get, "/events?cursor=nonsense")
            let catalogue = try await call(.ok, .get, "/admin/events?limit=2", headers: admin)
            try await call(.ok, .get, try Self.nextPage(catalogue), headers: admin)
            try await call(.unprocessableContent, .get, "/admin/events?limit=1001", headers: admin)
            try await call(.ok, .patch, "/admin/events/derby", #"{"odds": "2.00"}"#, headers: admin)
            try await call(.unprocessableContent, .patch, "/admin/events/derby", "{}", headers: admin)
            try await call(.notFound, .patch, "/admin/events/nothing", #"{"open": false}"#, headers: admin)
            try await call(.noContent, .delete, "/admin/events/cup", headers: admin)
            try await call(.notFound, .delete, "/admin/events/cup", headers: admin)
            try await call(.unauthorized, .post, "/admin/events", event("x", day: 4), problem: "authentication-required")
            try await call(.forbidden, .post, "/admin/events", event("x", day: 4), headers: asCarol, problem: "forbidden")

            // Bets with money: the stake is debited and the odds locked in. Idempotency keys are per
            // caller, so carol's "key-1" is not the anonymous one.
            let wagerBody = #"{"event_id": "derby", "amount": "10.00"}"#
            let wager = try await call(.created, .post, "/bets", wagerBody, headers: asCarol + [.idempotencyKey: "key-1"])
            #expect(wager["odds"] == .string("2.00") && wager["payout"] == .string("20.00") && wager["account_id"] != nil)
            let wagerID = try #require(wager["id"]?.string)
            let again = try await call(.created, .post, "/bets", wagerBody, headers: asCarol + [.idempotencyKey: "key-1"])
            #expect(again.headers[.idempotentReplayed] == "true" && again["id"]?.string == wagerID)
            let poor = try await call(
                .conflict, .post, "/bets", #"{"event_id": "derby", "amount": 1000}"#, headers: asCarol, problem: "insufficient-funds")
            #expect(poor["balance"] == .string("90.00") && poor["stake"] == .string("1000.00"))
            try await call(
                .conflict, .post, "/bets", #"{"event_id": "nope", "amount": 1}"#, headers: asCarol, problem: "event-not-in-catalogue")
            try await call(
                .conflict, .post, "/bets", #"{"event_id": "derby", "amount": 1, "account_id": \#(adminAccount.id)}"#,
                headers: asCarol, problem: "no-such-account")
            try await call(.created, .post, "/bets", #"{"event_id": "final", "amount": 5}"#, headers: asCarol)
            // Staff do not bet; betting closes at kick-off.
            try await call(.forbidden, .post, "/bets", wagerBody, headers: admin, problem: "staff-may-not-bet")
            try await call(.ok, .patch, "/admin/events/final", #"{"starts_at": "2026-01-01T12:00:00Z"}"#, headers: admin)
            try await call(.conflict, .post, "/bets", #"{"event_id": "final", "amount": 5}"#, headers: asCarol, problem: "betting-closed")
            try await call(.ok, .patch, "/admin/events/derby", #"{"open": false}"#, headers: admin)
            try await call(.conflict, .post, "/bets", wagerBody, headers: asCarol, problem: "event-not-open")
            try await call(.conflict, .delete, "/admin/events/derby", headers: admin, problem: "event-has-bets")
            // A bet with money is its owner's and the administrators'; to anybody else it does not exist.
            try await call(.ok, .get, "/bets/\(wagerID)", headers: asCarol)
            try await call(.ok, .get, "/bets/\(wagerID)", headers: admin)
            try await call(.notFound, .get, "/bets/\(wagerID)")
            let mine = try await call(.ok, .get, "/bets?limit=1", headers: asCarol)
            try await call(.ok, .get, try Self.nextPage(mine), headers: asCarol)

            // An operator reports; a player may not. The worker's settlement (the Settler) pays the won bet.
            try await call(.forbidden, .put, "/events/final", #"{"status": "WIN"}"#, headers: asCarol, problem: "forbidden")
            try await call(.accepted, .put, "/events/final", #"{"status": "WIN"}"#, headers: admin)
            try await redis.load(Scripts.all)
            let settled = try await Settler(redis: redis, keys: RedisKeys(prefix: "t:"), batchSize: 100).settle(
                eventID: "final", result: .win)
            #expect(settled.paidOut == Money(cents: 1250))
            // The payout is owed in the outbox; the worker's relay would apply it.
            #expect(try await CreditOutbox(redis: redis, keys: RedisKeys(prefix: "t:")).drain() == 1)
            let final = try await call(.ok, .get, "/events/final")
            #expect(final["total_paid_out"] == .string("12.50") && final["catalogue"]?["result"] == .string("WIN"))
            try await call(.conflict, .patch, "/admin/events/final", #"{"open": true}"#, headers: admin, problem: "event-has-result")

            // Dead letters: what the workers gave up on, listed over two pages; one re-driven once, one
            // that can never settle anything.
            let queue = SettlementQueue(redis: redis, keys: RedisKeys(prefix: "t:"))
            try await call(.ok, .get, "/admin/dead-letters", headers: admin)
            try await queue.deadLetter(
                StreamEntry(id: "1-0", fields: ["event_id": "final", "result": "WIN", "reported_at": "1"]),
                shard: 0, reason: "delivered 11 times without being settled", deliveries: 11, park: "final")
            try await queue.deadLetter(
                StreamEntry(id: "2-0", fields: ["event_id": "final"]), shard: 0, reason: "malformed entry", deliveries: 1)
            let letters = try await call(.ok, .get, "/admin/dead-letters?limit=1", headers: admin)
            let malformed = try #require(Self.elements(letters.json).first?["id"]?.string)
            let parked = try #require(
                Self.elements(try await call(.ok, .get, try Self.nextPage(letters), headers: admin).json).first?["id"]?.string)
            let retried = try await call(.accepted, .post, "/admin/dead-letters/\(parked)/retry", headers: admin)
            #expect(retried.headers[.location] == "/events/final" && retried["event_id"] == .string("final"))
            try await call(.notFound, .post, "/admin/dead-letters/\(parked)/retry", headers: admin)
            try await call(
                .conflict, .post, "/admin/dead-letters/\(malformed)/retry", headers: admin, problem: "dead-letter-not-retryable")
            try await call(.unprocessableContent, .get, "/admin/dead-letters?cursor=latest", headers: admin)
            try await call(.unauthorized, .get, "/admin/dead-letters", problem: "authentication-required")
            try await call(.forbidden, .get, "/admin/dead-letters", headers: asCarol, problem: "forbidden")
            try await call(.unauthorized, .post, "/admin/dead-letters/\(malformed)/retry", problem: "authentication-required")
            try await call(.forbidden, .post, "/admin/dead-letters/\(malformed)/retry", headers: asCarol, problem: "forbidden")

            // A player's own view: deposit, two stakes and a payout, in pages; one account; nobody else's.
            let me = try await call(.ok, .get, "/users/me?limit=2", headers: asCarol)
            #expect(Self.elements(me["transactions"]).first?["type"] == .string("payout"))
            try await call(.ok, .get, try Self.nextPage(me), headers: asCarol)
            try await call(.unprocessableContent, .get, "/users/me?cursor=42", headers: asCarol)
            try await call(.unauthorized, .get, "/users/me", problem: "authentication-required")
            let account = try await call(.ok, .get, "/accounts/\(carolAccount)?limit=2", headers: asCarol)
            #expect(account["balance"] == .string("97.50"))
            try await call(.ok, .get, try Self.nextPage(account), headers: asCarol)
            try await call(.notFound, .get, "/accounts/\(adminAccount.id)", headers: asCarol)
            try await call(.unprocessableContent, .get, "/accounts/\(carolAccount)?limit=0", headers: asCarol)
            try await call(.unauthorized, .get, "/accounts/\(carolAccount)", problem: "authentication-required")

            // Administration of users.
            try await call(.ok, .get, try Self.nextPage(try await call(.ok, .get, "/admin/users?limit=2", headers: admin)), headers: admin)
            try await call(.unprocessableContent, .get, "/admin/users?cursor=0", headers: admin)
            try await call(.unauthorized, .get, "/admin/users", problem: "authentication-required")
            try await call(.forbidden, .get, "/admin/users", headers: asCarol, problem: "forbidden")
            try await call(.notFound, .patch, "/admin/users/999", #"{"active": false}"#, headers: admin)
            try await call(
                .conflict, .patch, "/admin/users/\(adminUser.id)", #"{"active": false}"#, headers: admin, problem: "cannot-disable-self")
            try await call(.unprocessableContent, .patch, "/admin/users/\(carol.id)", #"{"active": "no", "role": "admin"}"#, headers: admin)

            // Email sign-up and trades (OpenAPIContractTests+SignUpAndTrades.swift).
            try await Self.signUpAndTradeAnswers(
                { try await call($0, $1, $2, $3, headers: $4, problem: $5, sourceLocation: $6) }, redis: redis, admin: admin,
                player: asCarol)

            // Every operation that checks tokens refuses a bad one (401) and a disabled user's (403)
            // before anything else; the cookie is checked like the header. A token of a user who never
            // activated (only a forged one could exist) is refused too.
            let mallory = try await register("mallory")
            try await call(.ok, .get, mallory.activation)
            let asMallory = try await logIn("mallory")
            try await call(.ok, .patch, "/admin/users/\(mallory.id)", #"{"active": false}"#, headers: admin)
            for (method, path, operation) in Self.operations {
                // Logging out would revoke mallory's token, which the other operations need.
                if method == .delete && path == "/auth" { continue }
                guard operation["security"] != nil else {
                    // The others ignore credentials: a stale cookie must not lock anybody out of them.
                    for headers in [Self.bearer("not-a-token"), asMallory] {
                        let response = try await client.execute(uri: Self.concrete(path), method: method, headers: headers)
                        #expect(
                            ![.unauthorized, .forbidden].contains(response.status), "\(method) \(path)"
                        )
                        #expect(response["type"] != .string("/problems/invalid-token"), "\(method) \(path)")
                    }
                    continue
                }
                try await call(.unauthorized, method, Self.concrete(path), headers: Self.bearer("not-a-token"), problem: "invalid-token")
                try await call(.forbidden, method, Self.concrete(path), headers: asMallory, problem: "account-disabled")
            }
            try await call(.unauthorized, .get, "/users/me", headers: [.cookie: "betmaker_token=stale"], problem: "invalid-token")
            let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(60))
            let pending = Self.bearer(try await tokens.issue(userID: dave.id).token)
            try await call(.forbidden, .get, "/users/me", headers: pending, problem: "account-not-activated")
            // A disabled user may still log out: the token is revoked all the same.
            try await call(.noContent, .delete, "/auth", headers: asMallory)
            try await call(.unauthorized, .get, "/users/me", headers: asMallory, problem: "invalid-token")

            // The resulting workflow: an administrator makes traders and assigns; traders take and report;
            // an administrator voids, and the Settler refunds (docs/ARCHITECTURE.md, "The event workflow").
            let (tess, troy) = (try await register("tess"), try await register("troy"))
            for trader in [tess, troy] {
                try await call(.ok, .get, trader.activation)
                let made = try await call(.ok, .patch, "/admin/users/\(trader.id)", #"{"role": "trader"}"#, headers: admin)
                #expect(made["user"]?["role"] == .string("trader"))
            }
            let traders = try await call(.ok, .get, "/admin/traders?limit=1", headers: admin)
            try await call(.ok, .get, try Self.nextPage(traders), headers: admin)
            try await call(.unprocessableContent, .get, "/admin/traders?cursor=0", headers: admin)
            try await call(.unauthorized, .get, "/admin/traders", problem: "authentication-required")
            try await call(.forbidden, .get, "/admin/traders", headers: asCarol, problem: "forbidden")
            let (asTess, asTroy) = (try await logIn("tess"), try await logIn("troy"))
            guard
                case .created(let boss, _, _) = try await AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
                    .register(login: "boss", passwordHash: hash, role: .admin, active: true)
            else {
                Issue.record("no second administrator")
                return
            }
            try await call(
                .conflict, .patch, "/admin/users/\(adminUser.id)", #"{"role": "player"}"#, headers: admin, problem: "cannot-change-own-role"
            )
            try await call(
                .conflict, .patch, "/admin/users/\(boss.id)", #"{"role": "player"}"#, headers: admin, problem: "cannot-change-admin-role")
            try await call(.created, .post, "/admin/events", event("match", day: 5), headers: admin)
            let assign = "/events/match/assign"
            try await call(.conflict, .post, assign, #"{"trader_id": \#(carol.id)}"#, headers: admin, problem: "not-a-trader")
            let assigned = try await call(.ok, .post, assign, #"{"trader_id": \#(tess.id)}"#, headers: admin)
            #expect(assigned["state"] == .string("assigned") && Self.integer(assigned["trader_id"]) == tess.id)
            try await call(.forbidden, .post, assign, #"{"trader_id": 1}"#, headers: asTess, problem: "forbidden")
            try await call(.unauthorized, .post, assign, #"{"trader_id": 1}"#, problem: "authentication-required")
            try await call(.unprocessableContent, .post, assign, #"{"trader_id": 0, "x": 1}"#, headers: admin)
            try await call(.forbidden, .post, "/events/match/take", headers: asTroy, problem: "not-your-event")
            try await call(.forbidden, .post, "/events/match/take", headers: asCarol, problem: "forbidden")
            try await call(.unauthorized, .post, "/events/match/take", problem: "authentication-required")
            try await call(.unprocessableContent, .post, "/events/bad!id/take", headers: asTess)
            try await call(.ok, .post, "/events/match/take", headers: asTess)
            try await call(.conflict, .post, "/events/match/take", headers: asTroy, problem: "event-state-conflict")
            try await call(.conflict, .post, assign, #"{"trader_id": \#(troy.id)}"#, headers: admin, problem: "event-state-conflict")
            try await call(.forbidden, .put, "/events/match", #"{"status": "LOSE"}"#, headers: asTroy, problem: "not-your-event")
            try await call(.accepted, .put, "/events/match", #"{"status": "LOSE"}"#, headers: asTess)
            let void = "/events/derby/void"
            try await call(.conflict, .post, "/events/match/void", #"{"reason": "late"}"#, headers: admin, problem: "event-state-conflict")
            try await call(.forbidden, .post, void, #"{"reason": "abandoned"}"#, headers: asTess, problem: "forbidden")
            try await call(.unauthorized, .post, void, #"{"reason": "abandoned"}"#, problem: "authentication-required")
            try await call(.unprocessableContent, .post, void, #"{"reason": ""}"#, headers: admin)
            let voided = try await call(.accepted, .post, void, #"{"reason": "abandoned"}"#, headers: admin)
            #expect(voided["state"] == .string("void") && voided.headers[.location] == "/events/derby")
            try await call(.conflict, .put, "/events/derby", #"{"status": "WIN"}"#, headers: admin, problem: "event-state-conflict")
            let refunds = try await Settler(redis: redis, keys: RedisKeys(prefix: "t:"), batchSize: 100).settle(
                eventID: "derby", result: .void)
            #expect(refunds.voided == 1 && refunds.refunded == Money(cents: 1000))
            #expect(try await CreditOutbox(redis: redis, keys: RedisKeys(prefix: "t:")).drain() == 1)
            #expect(Self.elements(try await call(.ok, .get, "/bets?status=void", headers: asCarol).json).count == 1)
            #expect(Self.elements(try await call(.ok, .get, "/events?status=void").json).first?["id"] == .string("derby"))
            let tessEvents = try await call(.ok, .get, "/traders/me/events?status=resulted", headers: asTess)
            #expect(Self.elements(tessEvents.json).map { $0["id"] } == [.string("match")])
            #expect(Self.elements(try await call(.ok, .get, "/traders/me/events", headers: asTroy).json).isEmpty)
            try await call(.unauthorized, .get, "/traders/me/events", problem: "authentication-required")
            try await call(.unprocessableContent, .get, "/traders/me/events?status=done", headers: asTess)
            try await call(.unprocessableContent, .get, "/events?status=done")

            // Refusals of anonymous requests and of every body, operations and documentation
            // (OpenAPIContractTests+Refusals.swift).
            try await Self.refusalAndOperationsAnswers(
                { try await call($0, $1, $2, $3, headers: $4, problem: $5, sourceLocation: $6) }, admin: admin, resultsKey: key)

            // Every documented answer was seen, but for 503s (Redis down: the test below and the fault suite)
            // and the live stream's 200 and 429, which LiveFeedTests checks against the document (this
            // stream never ends, and the refusal past LIVE_STREAMS_PER_USER needs the feed in hand).
            let unseen = Self.documentedAnswers().subtracting(seen.union(["GET /ui/stream 200", "GET /ui/stream 429"]))
            #expect(unseen.isEmpty, "documented but not seen: \(unseen.sorted())")
        }
    }
}
