import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Sessions, the operations port and the seed's passwords through the real `betmaker-api` (issue 28,
/// points 8 and 13).
@Suite struct SessionAndOperationsTests {
    static let password = "a long password"

    /// The `jti` of an access token (its payload is base64url JSON).
    static func tokenID(_ token: String) throws -> String {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            case .object(let claims) = try JSONParser.parse(payload),
            case .string(let id)? = claims.first(where: { $0.key == "jti" })?.value
        else { throw TestSupportError("no jti in \(token)") }
        return id
    }

    @Test func loggingOutRevokesTheTokenUntilItWouldHaveExpired() async throws {
        try await withSystem { system in
            let alice = try await WalletEndToEndTests.player(system, "alice")
            let other = try await WalletEndToEndTests.logIn(system, "alice", Self.password)
            #expect(try await system.request(.GET, "/users/me", token: alice.token).status == 200)
            let loggedOut = try await system.request(.DELETE, "/auth", token: alice.token)
            #expect(loggedOut.status == 204, "\(loggedOut.body)")
            let refused = try await system.request(.GET, "/users/me", token: alice.token)
            AbuseLimitTests.expectProblem(refused, 401, "invalid-token")
            #expect(refused.string["detail"]?.contains("revoked") == true, "\(refused.body)")
            #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "e", "amount": "1"}"#, token: alice.token).status == 401)
            // Only that token: the user's other session goes on.
            #expect(try await system.request(.GET, "/users/me", token: other).status == 200)
            // Kept as long as the token would have lived (ACCESS_TOKEN_TTL_SECONDS, 3600), not longer.
            let key = BetMakerSystem.keys.revokedToken(userID: alice.userID, tokenID: try Self.tokenID(alice.token))
            let left = try await system.redis.send(RedisCommand("PTTL", key)).int(for: "PTTL")
            #expect((3_500_000...3_600_000).contains(left), "\(left)")
            // Logging out twice is harmless; so is logging out with a token that is no good any more.
            #expect(try await system.request(.DELETE, "/auth", token: alice.token).status == 204)

            // The web UI's cookie session, logged out as the UI does it (same origin, X-Requested-With).
            let cookieLogin = try await system.request(
                .POST, "/auth?cookie=true", json: #"{"login": "alice", "password": "\#(Self.password)"}"#)
            let cookie = try #require(cookieLogin.headers.first(name: "Set-Cookie")?.split(separator: ";").first.map(String.init))
            #expect(try await system.request(.GET, "/users/me", headers: [("Cookie", cookie)]).status == 200)
            let origin = system.baseURL
            let uiLogOut = try await system.request(
                .DELETE, "/auth", headers: [("Cookie", cookie), ("X-Requested-With", "bet-maker"), ("Origin", origin)])
            #expect(uiLogOut.status == 204 && uiLogOut.headers.first(name: "Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(try await system.request(.GET, "/users/me", headers: [("Cookie", cookie)]).status == 401)
            // A malformed Authorization header identifies no token: the client is told so.
            AbuseLimitTests.expectProblem(
                try await system.request(.DELETE, "/auth", headers: [("Authorization", "Basic YWxpY2U6eA==")]), 401, "invalid-token")
        }
    }

    /// Readiness and metrics say how loaded and how healthy the process is: they are served on the
    /// operations port, which compose does not publish, as the worker's are.
    @Test func readinessAndMetricsAreServedOnTheOperationsPortOnly() async throws {
        try await withSystem { system in
            for path in ["/metrics", "/health/ready"] {
                let reply = try await system.request(.GET, path)
                #expect(reply.status == 404, "\(path) on the public port: \(reply.status)")
            }
            #expect(try await system.request(.GET, "/health/live").status == 200)
            #expect(system.operationsURL != system.baseURL)
            for path in ["/health/live", "/health/ready", "/metrics"] {
                #expect(try await system.get(system.operationsURL + path).status == 200, "\(path)")
            }
            // The compose health check asks the operations port.
            let port = try #require(system.operationsURL.split(separator: ":").last.map(String.init))
            let check = try ChildProcess(
                name: "betmaker-api healthcheck", executable: try BetMakerProcesses.executable("betmaker-api"),
                arguments: ["healthcheck", "--env-file", "/nonexistent/.env"],
                environment: ["PATH": "/usr/bin:/bin", "API_OPERATIONS_PORT": port])
            #expect(await check.waitForExit() == 0)
        }
    }

    /// Outside development mode the seed never makes `admin`/`admin-password`: it takes the
    /// environment's passwords, refuses the published ones, and generates the others, shown once.
    @Test func outsideDevelopmentModeTheSeedUsesGivenOrGeneratedPasswords() async throws {
        try await withSystem { system in
            let refused = try await BetMakerProcesses.run(
                "betmaker-api", ["seed"], redis: system.deployment, settings: ["SEED_ADMIN_PASSWORD": "admin-password"])
            #expect(refused.status == 2 && refused.output.contains("SEED_ADMIN_PASSWORD is a published demo password"), "\(refused.output)")
            #expect(try await system.redis.hget(BetMakerSystem.keys.logins, "admin") == nil, "refused before anything is made")

            let seeded = try await BetMakerProcesses.run(
                "betmaker-api", ["seed"], redis: system.deployment, settings: ["SEED_PLAYER_PASSWORD": "the demo player's own"])
            #expect(seeded.status == 0, "\(seeded.output)")
            let pattern = /admin admin: created \(user \d+, account \d+\), password (\S+) \(generated: shown only now\)/
            let generated = try #require(seeded.output.firstMatch(of: pattern).map { String($0.1) }, "\(seeded.output)")
            #expect(generated.count == 24 && generated != "admin-password")
            #expect(seeded.output.contains("player demo: created") && seeded.output.contains("password the demo player's own"))
            #expect(seeded.output.components(separatedBy: "(generated: shown only now)").count - 1 == 3, "admin and both traders")
            #expect(!seeded.output.contains("admin-password") && !seeded.output.contains("trader-password"))

            let published = try await system.request(.POST, "/auth", json: #"{"login": "admin", "password": "admin-password"}"#)
            #expect(published.status == 401)
            _ = try await WalletEndToEndTests.logIn(system, "admin", generated)
            _ = try await WalletEndToEndTests.logIn(system, "demo", "the demo player's own")
            // Shown only once: a second run finds the users and prints no password.
            let again = try await BetMakerProcesses.run("betmaker-api", ["seed"], redis: system.deployment)
            #expect(again.status == 0 && again.output.contains("admin admin: exists"), "\(again.output)")
            #expect(!again.output.contains(generated) && !again.output.contains("shown only now"), "\(again.output)")
        }
    }
}
