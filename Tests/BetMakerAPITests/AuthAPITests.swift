import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

/// Accounts, tokens, payments and administration through the API's router, against a real Redis.
@Suite struct AuthAPITests {
    static let password = "correct horse battery"

    /// An active user made through the store (no activation round trip), and a token from `POST /auth`.
    static func user(
        _ login: String, role: Role = .player, redis: RedisClient, client: some TestClientProtocol
    ) async throws -> (userID: Int, accountID: Int, token: String) {
        let accounts = AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
        let hash = try await Passwords(cost: 10).hash(password)
        guard
            case .created(let user, let account, _) = try await accounts.register(
                login: login, passwordHash: hash, role: role, active: true)
        else { throw TestSupportError("\(login) not registered") }
        let response = try await client.postJSON("/auth", #"{"login": "\#(login)", "password": "\#(password)"}"#)
        guard response.status == .ok, let token = response["access_token"]?.string else {
            throw TestSupportError("no token for \(login): \(response.status) \(response.text)")
        }
        return (user.id, account.id, token)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func deposit(_ cents: Int64, to user: (userID: Int, accountID: Int, token: String), redis: RedisClient) async throws {
        let accounts = AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
        _ = try await accounts.deposit(
            transactionID: "deposit-\(user.userID)-\(cents)", userID: user.userID, accountID: user.accountID, amount: Money(cents: cents))
    }

    static func openEvent(_ id: String, admin: String, client: some TestClientProtocol) async throws {
        let created = try await client.postJSON(
            "/admin/events",
            #"{"id": "\#(id)", "title": "Derby", "home_team": "Reds", "away_team": "Blues", "starts_at": "2030-01-01T18:00:00Z", "odds": "1.85"}"#,
            headers: bearer(admin))
        #expect(created.status == .created, "\(created.text)")
    }

    // MARK: Registration and logging in

    @Test func registerActivateAndLogIn() async throws {
        try await withAPI { client, _, _ in
            let registered = try await client.postJSON("/users", #"{"login": "Alice", "password": "\#(Self.password)"}"#)
            #expect(registered.status == .created, "\(registered.text)")
            guard case .object(let user)? = registered["user"], case .string(let link)? = registered["activation_url"] else {
                Issue.record("no user or activation_url: \(registered.text)")
                return
            }
            #expect(user.first { $0.key == "active" }?.value == .bool(false))
            #expect(!registered.text.contains("password"))
            let login = #"{"login": "alice", "password": "\#(Self.password)"}"#
            let early = try await client.postJSON("/auth", login)
            #expect(early.status == .forbidden && early["type"]?.string == "/problems/account-not-activated")

            #expect(link.hasPrefix("http://127.0.0.1:8080/users/activate/"))
            let path = String(link.dropFirst("http://127.0.0.1:8080".count))
            let activated = try await client.get(path)
            #expect(activated.status == .ok, "\(activated.text)")
            #expect(try await client.get(path).status == .notFound, "an activation link works once")

            let loggedIn = try await client.postJSON("/auth", login)
            #expect(loggedIn.status == .ok)
            #expect(loggedIn["token_type"]?.string == "bearer" && loggedIn["expires_in"] == .number("3600"))
            #expect(loggedIn.headers[.cacheControl] == "no-store")
            let token = try #require(loggedIn["access_token"]?.string)
            let me = try await client.get("/users/me", headers: Self.bearer(token))
            #expect(me.status == .ok, "\(me.text)")
            #expect(me.text.contains(#""login":"Alice""#) && me.text.contains(#""balance":"0.00""#))

            let duplicate = try await client.postJSON("/users", #"{"login": "ALICE", "password": "another password"}"#)
            #expect(duplicate.status == .conflict && duplicate["type"]?.string == "/problems/login-taken")
        }
    }

    @Test func registrationRefusesBadInputAndFieldsNobodyMaySet() async throws {
        try await withAPI { client, _, redis in
            for (body, fields) in [
                (#"{"login": "al", "password": "long enough"}"#, ["login"]),
                (#"{"login": "a b c", "password": "long enough"}"#, ["login"]),
                (#"{"login": "alice", "password": "short"}"#, ["password"]),
                (#"{"login": "alice", "password": "\#(String(repeating: "x", count: 73))"}"#, ["password"]),
                (#"{"login": "alice", "password": "long enough", "role": "admin"}"#, ["role"]),
                (#"{"login": "alice", "password": "long enough", "active": true, "balance": "100"}"#, ["active", "balance"]),
            ] {
                let response = try await client.postJSON("/users", body)
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect(Set(response.problemFields) == Set(fields), "\(body): \(response.text)")
            }
            #expect(try await redis.exists([RedisKeys(prefix: "t:").logins]) == 0)
        }
    }

    @Test func wrongPasswordsAndUnknownLoginsGetTheSameAnswerAndALoginLocksAfterTooMany() async throws {
        try await withAPI(configure: { $0.loginMaxFailures = 3 }) { client, _, redis in
            _ = try await Self.user("alice", redis: redis, client: client)
            let wrong = try await client.postJSON("/auth", #"{"login": "alice", "password": "not the password"}"#)
            let unknown = try await client.postJSON("/auth", #"{"login": "nobody", "password": "not the password"}"#)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong["detail"] == unknown["detail"] && wrong["type"] == unknown["type"])
            _ = try await client.postJSON("/auth", #"{"login": "alice", "password": "not the password"}"#)
            _ = try await client.postJSON("/auth", #"{"login": "ALICE", "password": "not the password"}"#)
            let locked = try await client.postJSON("/auth", #"{"login": "alice", "password": "\#(Self.password)"}"#)
            #expect(locked.status == .tooManyRequests, "\(locked.text)")
            // The time left of the lock, at most the whole lockout.
            #expect(locked.headers[.retryAfter].flatMap { Int($0) }.map { (1...900).contains($0) } == true)
        }
    }

    @Test func aLongPasswordOfNonASCIICharactersCountsEveryCharacter() async throws {
        try await withAPI { client, _, redis in
            // 72 characters, 144 bytes: more than bcrypt reads, so it is hashed as its SHA-256 first.
            let password = String(repeating: "é", count: 71) + "a"
            let registered = try await client.postJSON("/users", #"{"login": "erin", "password": "\#(password)"}"#)
            #expect(registered.status == .created, "\(registered.text)")
            guard case .number(let id)? = registered["user"]?["id"], let userID = Int(id) else {
                Issue.record("no user id: \(registered.text)")
                return
            }
            _ = try await AccountStore(redis: redis, keys: RedisKeys(prefix: "t:")).setActive(userID: userID, true)
            let right = try await client.postJSON("/auth", #"{"login": "erin", "password": "\#(password)"}"#)
            #expect(right.status == .ok, "\(right.text)")
            // The same first 71 characters (beyond bcrypt's 72 bytes already) with another last one.
            let wrong = try await client.postJSON("/auth", #"{"login": "erin", "password": "\#(String(password.dropLast()))b"}"#)
            #expect(wrong.status == .unauthorized, "\(wrong.text)")
        }
    }

    @Test func parallelGuessesGetNoMorePasswordChecksThanTheLimit() async throws {
        try await withAPI(configure: { $0.loginMaxFailures = 3 }) { client, _, redis in
            _ = try await Self.user("bob", redis: redis, client: client)
            // Twenty wrong passwords at once: each attempt is counted before its password is checked,
            // so exactly three are checked (401) and the others are refused unchecked (429).
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<20 {
                    group.addTask { try await client.postJSON("/auth", #"{"login": "bob", "password": "wrong guess \#(index)"}"#).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 17, "\(statuses)")
            // While locked, the right password is refused too.
            let correct = try await client.postJSON("/auth", #"{"login": "bob", "password": "\#(Self.password)"}"#)
            #expect(correct.status == .tooManyRequests, "\(correct.text)")
        }
    }

    @Test func theWebUIsCookieIsHttpOnlySecureStrictAndAccepted() async throws {
        try await withAPI { client, _, redis in
            _ = try await Self.user("alice", redis: redis, client: client)
            let response = try await client.postJSON("/auth?cookie=true", #"{"login": "alice", "password": "\#(Self.password)"}"#)
            #expect(response.status == .ok)
            #expect(response["access_token"] == nil, "scripts must not see the token")
            let cookie = try #require(response.headers[.setCookie])
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=3600"] {
                #expect(cookie.contains(attribute), "\(cookie)")
            }
            let value = String(cookie.prefix { $0 != ";" })
            #expect(try await client.get("/users/me", headers: [.cookie: "other=1; \(value)"]).status == .ok)
            let loggedOut = try await client.execute(uri: "/auth", method: .delete)
            #expect(loggedOut.status == .noContent && loggedOut.headers[.setCookie]?.contains("Max-Age=0") == true)
        }
    }

    // MARK: Tokens

    /// base64url of a JSON text, for hand-made tokens.
    static func segment(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }

    static func signed(header: String, claims: String, secret: String, sha512: Bool = false) -> String {
        let input = segment(header) + "." + segment(claims)
        let key = SymmetricKey(data: Array(secret.utf8))
        let signature: [UInt8] =
            sha512
            ? Array(HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: key))
            : Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
        return input + "." + Base64URL.encode(signature)
    }

    /// A token id of the form the API makes (`jti`: 22 base64url characters), for hand-made tokens.
    static let tokenID = "AAAAAAAAAAAAAAAAAAAAAA"

    @Test func forgedExpiredAndMalformedTokensAreRefused() async throws {
        try await withAPI { client, _, redis in
            let alice = try await Self.user("alice", redis: redis, client: client)
            let now = Int(currentMilliseconds() / 1000)
            let claims = #"{"sub":"\#(alice.userID)","iat":\#(now),"exp":\#(now + 600),"jti":"\#(Self.tokenID)"}"#
            let secret = BetMakerProcesses.testJWTSecret
            #expect(
                try await client.get(
                    "/users/me", headers: Self.bearer(Self.signed(header: #"{"alg":"HS256","typ":"JWT"}"#, claims: claims, secret: secret))
                ).status == .ok, "the hand-made token is right")
            let refused: [(String, String)] = [
                ("alg none", Self.segment(#"{"alg":"none","typ":"JWT"}"#) + "." + Self.segment(claims) + "."),
                ("wrong key", Self.signed(header: #"{"alg":"HS256"}"#, claims: claims, secret: "another secret of thirty-two bytes!!")),
                ("HS512", Self.signed(header: #"{"alg":"HS512"}"#, claims: claims, secret: secret, sha512: true)),
                (
                    "expired",
                    Self.signed(
                        header: #"{"alg":"HS256"}"#,
                        claims: #"{"sub":"\#(alice.userID)","iat":\#(now - 7200),"exp":\#(now - 3600),"jti":"\#(Self.tokenID)"}"#,
                        secret: secret)
                ),
                (
                    "no exp",
                    Self.signed(
                        header: #"{"alg":"HS256"}"#, claims: #"{"sub":"\#(alice.userID)","iat":\#(now),"jti":"\#(Self.tokenID)"}"#,
                        secret: secret)
                ),
                (
                    "no sub",
                    Self.signed(
                        header: #"{"alg":"HS256"}"#, claims: #"{"iat":\#(now),"exp":\#(now + 600),"jti":"\#(Self.tokenID)"}"#,
                        secret: secret)
                ),
                // Without an id a token could not be revoked (DELETE /auth).
                (
                    "no jti",
                    Self.signed(
                        header: #"{"alg":"HS256"}"#, claims: #"{"sub":"\#(alice.userID)","iat":\#(now),"exp":\#(now + 600)}"#,
                        secret: secret)
                ),
                (
                    "unknown user",
                    Self.signed(
                        header: #"{"alg":"HS256"}"#, claims: #"{"sub":"999","iat":\#(now),"exp":\#(now + 600),"jti":"\#(Self.tokenID)"}"#,
                        secret: secret)
                ),
                ("garbage", "not.a.token"),
                ("tampered", alice.token.dropLast(2) + "AA"),
            ]
            for (name, token) in refused {
                let response = try await client.get("/users/me", headers: Self.bearer(token))
                #expect(response.status == .unauthorized, "\(name): \(response.text)")
                #expect(response.headers[.wwwAuthenticate] == #"Bearer error="invalid_token""#, "\(name)")
                // A bad token is refused even where anonymous calls are welcome.
                #expect(try await client.get("/bets", headers: Self.bearer(token)).status == .unauthorized, "\(name)")
            }
            #expect(try await client.get("/users/me", headers: [.authorization: "Basic YWxpY2U6eA=="]).status == .unauthorized)
            #expect(try await client.get("/users/me").status == .unauthorized)
            // Routes that do not care who calls ignore credentials: a stale cookie never locks anybody
            // out of logging in again, and health checks and the webhook work whatever a client sends.
            let stale: HTTPFields = [.cookie: "betmaker_token=expired.token.here", .authorization: "Bearer nonsense"]
            #expect(try await client.get("/health/live", headers: stale).status == .ok)
            #expect(try await client.get("/events", headers: stale).status == .ok)
            let login = try await client.postJSON("/auth", #"{"login": "alice", "password": "\#(Self.password)"}"#, headers: stale)
            #expect(login.status == .ok)
            #expect(try await client.execute(uri: "/auth", method: .delete, headers: stale).status == .noContent)
        }
    }

    @Test func disablingAUserEndsTheirTokensAtOnce() async throws {
        try await withAPI { client, _, redis in
            let admin = try await Self.user("root", role: .admin, redis: redis, client: client)
            let alice = try await Self.user("alice", redis: redis, client: client)
            #expect(try await client.get("/users/me", headers: Self.bearer(alice.token)).status == .ok)
            let disabled = try await client.execute(
                uri: "/admin/users/\(alice.userID)", method: .patch, headers: Self.bearer(admin.token) + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"active": false}"#))
            #expect(disabled.status == .ok, "\(disabled.text)")
            let refused = try await client.get("/users/me", headers: Self.bearer(alice.token))
            #expect(refused.status == .forbidden && refused["type"]?.string == "/problems/account-disabled")
            let login = try await client.postJSON("/auth", #"{"login": "alice", "password": "\#(Self.password)"}"#)
            #expect(login.status == .forbidden)
            // An administrator cannot lock themselves out.
            let selfDisable = try await client.execute(
                uri: "/admin/users/\(admin.userID)", method: .patch, headers: Self.bearer(admin.token) + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"active": false}"#))
            #expect(selfDisable.status == .conflict)
        }
    }
}
