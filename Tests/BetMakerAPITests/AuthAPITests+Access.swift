import BetMaker
import BetMakerRuntime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

extension AuthAPITests {
    // MARK: Who sees what

    @Test func oneUserCannotSeeAnothersBetsAccountsOrTransactions() async throws {
        try await withAPI { client, _, redis in
            let admin = try await Self.user("root", role: .admin, redis: redis, client: client)
            let alice = try await Self.user("alice", redis: redis, client: client)
            let bob = try await Self.user("bob", redis: redis, client: client)
            try await Self.deposit(10_000, to: alice, redis: redis)
            try await Self.openEvent("derby", admin: admin.token, client: client)
            let placed = try await client.postJSON("/bets", #"{"event_id": "derby", "amount": "10.00"}"#, headers: Self.bearer(alice.token))
            #expect(placed.status == .created, "\(placed.text)")
            let id = try #require(placed["id"]?.string)
            #expect(placed["payout"]?.string == "18.50" && placed["odds"]?.string == "1.85")

            #expect(try await client.get("/bets/\(id)", headers: Self.bearer(alice.token)).status == .ok)
            #expect(try await client.get("/bets/\(id)", headers: Self.bearer(admin.token)).status == .ok)
            for headers in [Self.bearer(bob.token), [:]] {
                #expect(try await client.get("/bets/\(id)", headers: headers).status == .notFound)
                #expect(try await client.get("/bets", headers: headers).text == "[]")
                #expect(try await client.get("/bets?event_id=derby", headers: headers).text == "[]")
            }
            #expect(try await client.get("/accounts/\(alice.accountID)", headers: Self.bearer(bob.token)).status == .notFound)
            #expect(try await client.get("/accounts/\(alice.accountID)", headers: Self.bearer(alice.token)).status == .ok)
            let bobsView = try await client.get("/users/me", headers: Self.bearer(bob.token))
            #expect(!bobsView.text.contains(id) && !bobsView.text.contains("\"deposit\""))
            // Nor bet from another's account.
            let theft = try await client.postJSON(
                "/bets", #"{"event_id": "derby", "amount": "1.00", "account_id": \#(alice.accountID)}"#, headers: Self.bearer(bob.token))
            #expect(theft.status == .conflict && theft["type"]?.string == "/problems/no-such-account", "\(theft.text)")
        }
    }

    @Test func noBodyCanSetBalanceRoleActiveOrOdds() async throws {
        try await withAPI { client, _, redis in
            let admin = try await Self.user("root", role: .admin, redis: redis, client: client)
            let alice = try await Self.user("alice", redis: redis, client: client)
            try await Self.deposit(10_000, to: alice, redis: redis)
            try await Self.openEvent("derby", admin: admin.token, client: client)
            let bet = try await client.postJSON(
                "/bets", #"{"event_id": "derby", "amount": "1.00", "odds": "100.00", "status": "won"}"#, headers: Self.bearer(alice.token))
            #expect(bet.status == .unprocessableContent && Set(bet.problemFields) == ["odds", "status"])
            let patch = try await client.execute(
                uri: "/admin/users/\(alice.userID)", method: .patch, headers: Self.bearer(admin.token) + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"active": true, "role": "admin", "balance": "1000000"}"#))
            #expect(patch.status == .unprocessableContent && Set(patch.problemFields) == ["role", "balance"])
            // Players are not administrators.
            let notAdmin = try await client.postJSON(
                "/admin/events",
                #"{"id": "x", "title": "t", "home_team": "a", "away_team": "b", "starts_at": "2030-01-01T00:00:00Z", "odds": 2}"#,
                headers: Self.bearer(alice.token))
            #expect(notAdmin.status == .forbidden)
            #expect(try await client.get("/admin/users", headers: Self.bearer(alice.token)).status == .forbidden)
            #expect(try await client.get("/admin/users").status == .unauthorized)
            let me = try await client.get("/users/me", headers: Self.bearer(alice.token))
            #expect(me.text.contains(#""balance":"100.00""#) && me.text.contains(#""role":"player""#))
        }
    }

    // MARK: Bets with money

    @Test func aBetWithMoneyNeedsFundsAnOpenCatalogueEventAndAnsersWithTheBalance() async throws {
        try await withAPI { client, _, redis in
            let admin = try await Self.user("root", role: .admin, redis: redis, client: client)
            let alice = try await Self.user("alice", redis: redis, client: client)
            try await Self.deposit(2000, to: alice, redis: redis)
            try await Self.openEvent("derby", admin: admin.token, client: client)
            let poor = try await client.postJSON("/bets", #"{"event_id": "derby", "amount": "20.01"}"#, headers: Self.bearer(alice.token))
            #expect(poor.status == .conflict && poor["type"]?.string == "/problems/insufficient-funds")
            #expect(poor["balance"]?.string == "20.00" && poor["stake"]?.string == "20.01")
            let unknown = try await client.postJSON(
                "/bets", #"{"event_id": "elsewhere", "amount": "1"}"#, headers: Self.bearer(alice.token))
            #expect(unknown.status == .conflict && unknown["type"]?.string == "/problems/event-not-in-catalogue", "\(unknown.text)")
            let closing = try await client.execute(
                uri: "/admin/events/derby", method: .patch, headers: Self.bearer(admin.token) + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"open": false}"#))
            #expect(closing.status == .ok && closing["open"] == .bool(false))
            #expect(try await client.get("/events").text == "[]")
            let shut = try await client.postJSON("/bets", #"{"event_id": "derby", "amount": "1"}"#, headers: Self.bearer(alice.token))
            #expect(shut.status == .conflict && shut["type"]?.string == "/problems/event-not-open")
            // Anonymous callers cannot name an account.
            let anonymous = try await client.postJSON("/bets", #"{"event_id": "derby", "amount": "1", "account_id": 1}"#)
            #expect(anonymous.status == .unprocessableContent && anonymous.problemFields == ["account_id"])
            #expect(try await client.get("/users/me", headers: Self.bearer(alice.token)).text.contains(#""balance":"20.00""#))
        }
    }

    @Test func anonymousBetsCanBeTurnedOff() async throws {
        try await withAPI(configure: { $0.anonymousBets = false }) { client, _, _ in
            let response = try await client.postJSON("/bets", #"{"event_id": "e", "amount": "1"}"#)
            #expect(response.status == .unauthorized && response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    // MARK: Results

    @Test func withAResultsKeyReportingNeedsAnOperatorOrTheKey() async throws {
        try await withAPI(configure: { $0.resultsAPIKey = "feed-key" }) { client, _, redis in
            let admin = try await Self.user("root", role: .admin, redis: redis, client: client)
            let alice = try await Self.user("alice", redis: redis, client: client)
            func report(_ event: String, _ headers: HTTPFields) async throws -> TestResponse {
                try await client.execute(
                    uri: "/events/\(event)", method: .put, headers: headers + [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"status": "WIN"}"#))
            }
            #expect(try await report("a", [:]).status == .unauthorized)
            #expect(try await report("a", [.init("X-API-Key")!: "wrong"]).status == .unauthorized)
            #expect(try await report("a", Self.bearer(alice.token)).status == .forbidden)
            #expect(try await report("a", Self.bearer(admin.token)).status == .accepted)
            #expect(try await report("b", [.init("X-API-Key")!: "feed-key"]).status == .accepted)
        }
    }
}
