import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// What abuse costs, through the real `betmaker-api` (issue 28, points 7 and 9): the per-client buckets
/// of password requests and plays, the trusted proxy's header, the lockout per login and client, the
/// slower limit per login across clients, and the bounded bcrypt pool.
@Suite struct AbuseLimitTests {
    static let password = "a long password"
    /// Clients are told apart by the proxy's header in these tests; the last address is the proxy's word.
    static let behindProxy = ["TRUSTED_PROXY_HEADER": "X-Forwarded-For"]

    static func from(_ address: String) -> [(String, String)] {
        // The first address is the client's own claim, which a trusted proxy passes on and which counts for nothing.
        [("X-Forwarded-For", "192.0.2.250, \(address)")]
    }

    static func logIn(_ system: System, _ login: String, _ password: String, from address: String) async throws -> System.Reply {
        try await system.request(.POST, "/auth", json: #"{"login": "\#(login)", "password": "\#(password)"}"#, headers: from(address))
    }

    /// A registered, activated user, made from `address`.
    static func register(_ system: System, _ login: String, from address: String = "198.51.100.1") async throws {
        let registered = try await system.request(
            .POST, "/users", json: #"{"login": "\#(login)", "password": "\#(password)"}"#, headers: from(address))
        guard registered.status == 201, let link = registered.string["activation_url"], let path = URL(string: link)?.path else {
            throw TestSupportError("\(login) not registered: \(registered.status) \(registered.body)")
        }
        guard try await system.request(.GET, path).status == 200 else { throw TestSupportError("\(login) not activated") }
    }

    static func expectProblem(_ reply: System.Reply, _ status: Int, _ type: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply.body)", sourceLocation: sourceLocation)
        #expect(reply["type"] == .string("/problems/\(type)"), "\(reply.body)", sourceLocation: sourceLocation)
        #expect(reply.headers.first(name: "Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
    }

    static func retryAfter(_ reply: System.Reply) -> Int? { reply.headers.first(name: "Retry-After").flatMap { Int($0) } }

    @Test func aClientAddressGetsABucketOfPasswordRequestsAndOthersKeepTheirs() async throws {
        let settings = ["AUTH_RATE_PER_MINUTE": "1", "AUTH_RATE_BURST": "3"].merging(Self.behindProxy) { $1 }
        try await withSystem(apiSettings: settings) { system in
            // Registering and logging in draw from the same bucket: both cost a bcrypt hash.
            try await Self.register(system, "alice", from: "203.0.113.5")
            #expect(try await Self.logIn(system, "alice", Self.password, from: "203.0.113.5").status == 200)
            #expect(try await Self.logIn(system, "alice", "wrong password", from: "203.0.113.5").status == 401)
            let refused = try await Self.logIn(system, "alice", Self.password, from: "203.0.113.5")
            Self.expectProblem(refused, 429, "rate-limited")
            // One token a minute: the next one is at most a minute away.
            #expect(Self.retryAfter(refused).map { (1...60).contains($0) } == true, "\(refused.headers)")
            let registering = try await system.request(
                .POST, "/users", json: #"{"login": "mallory", "password": "\#(Self.password)"}"#, headers: Self.from("203.0.113.5"))
            Self.expectProblem(registering, 429, "rate-limited")
            #expect(try await system.redis.hget(BetMakerSystem.keys.logins, "mallory") == nil, "a refused request registers nobody")
            // Another address has a bucket of its own.
            #expect(try await Self.logIn(system, "alice", Self.password, from: "198.51.100.9").status == 200)
            // An IPv6 client counts by its /64: another address of the same subscriber shares the bucket.
            for _ in 0..<3 { _ = try await Self.logIn(system, "alice", Self.password, from: "2001:db8:1:2::a") }
            Self.expectProblem(try await Self.logIn(system, "alice", Self.password, from: "2001:db8:1:2:ffff::b"), 429, "rate-limited")
        }
    }

    /// Without `TRUSTED_PROXY_HEADER` the socket's peer is the client: a forged header changes nothing.
    @Test func withoutATrustedProxyAForwardedForHeaderIsIgnored() async throws {
        try await withSystem(apiSettings: ["AUTH_RATE_PER_MINUTE": "1", "AUTH_RATE_BURST": "2"]) { system in
            for address in ["203.0.113.1", "203.0.113.2"] {
                #expect(try await Self.logIn(system, "nobody", "wrong password", from: address).status == 401)
            }
            Self.expectProblem(try await Self.logIn(system, "nobody", "wrong password", from: "203.0.113.3"), 429, "rate-limited")
        }
    }

    /// Ten wrong passwords from an attacker's address used to lock `admin` out for everybody, the right
    /// password included. Now they lock out that address only.
    @Test func failuresFromOneAddressLockOnlyThatAddressOutOfTheLogin() async throws {
        try await withSystem(apiSettings: ["LOGIN_MAX_FAILURES": "3"].merging(Self.behindProxy) { $1 }) { system in
            try await Self.register(system, "admin2")
            for _ in 0..<3 {
                Self.expectProblem(try await Self.logIn(system, "admin2", "guess guess", from: "203.0.113.66"), 401, "invalid-credentials")
            }
            // Locked for the attacker, whatever the password: it is not even checked.
            let locked = try await Self.logIn(system, "ADMIN2", Self.password, from: "203.0.113.66")
            Self.expectProblem(locked, 429, "too-many-login-attempts")
            #expect(Self.retryAfter(locked).map { (1...900).contains($0) } == true, "\(locked.headers)")
            // The owner, from their own address, logs in.
            let owner = try await Self.logIn(system, "admin2", Self.password, from: "198.51.100.20")
            #expect(owner.status == 200 && owner.string["access_token"] != nil, "\(owner.body)")
        }
    }

    /// The slower limit: a login takes `LOGIN_FAILURES_PER_HOUR` failures from all addresses together;
    /// a success gives its attempt back.
    @Test func failuresFromManyAddressesAreThrottledAtTheLoginsHourlyRate() async throws {
        try await withSystem(apiSettings: ["LOGIN_FAILURES_PER_HOUR": "4"].merging(Self.behindProxy) { $1 }) { system in
            try await Self.register(system, "carol")
            for index in 1...3 {
                #expect(try await Self.logIn(system, "carol", "guess guess", from: "203.0.113.\(index)").status == 401)
            }
            #expect(try await Self.logIn(system, "carol", Self.password, from: "198.51.100.30").status == 200)
            #expect(try await Self.logIn(system, "carol", "guess guess", from: "203.0.113.4").status == 401)
            let throttled = try await Self.logIn(system, "carol", "guess guess", from: "203.0.113.5")
            Self.expectProblem(throttled, 429, "login-throttled")
            // Four an hour: the next attempt is at most a quarter of an hour away.
            #expect(Self.retryAfter(throttled).map { (1...900).contains($0) } == true, "\(throttled.headers)")
            // Another login is not affected.
            #expect(try await Self.logIn(system, "dave", "guess guess", from: "203.0.113.5").status == 401)
        }
    }

    /// Hashing waits for one of `BCRYPT_THREADS` slots, with at most `BCRYPT_QUEUE_LIMIT` waiting; the
    /// rest are refused at once with 503 and Retry-After, and change nothing.
    @Test func passwordHashingPastItsQueueIsRefusedWithRetryAfter() async throws {
        let settings = ["BCRYPT_COST": "12", "BCRYPT_THREADS": "1", "BCRYPT_QUEUE_LIMIT": "1"]
        try await withSystem(apiSettings: settings) { system in
            let replies = try await withThrowingTaskGroup(of: (String, System.Reply).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let login = "flood\(index)"
                        return (
                            login,
                            try await system.request(.POST, "/users", json: #"{"login": "\#(login)", "password": "\#(Self.password)"}"#)
                        )
                    }
                }
                var replies: [String: System.Reply] = [:]
                for try await (login, reply) in group { replies[login] = reply }
                return replies
            }
            let created = replies.filter { $0.value.status == 201 }
            let refused = replies.filter { $0.value.status == 503 }
            #expect(created.count >= 2 && created.count + refused.count == 8, "\(replies.mapValues(\.status))")
            #expect(!refused.isEmpty, "one hashing at a time and one waiting: the others cannot all have been taken")
            for (login, reply) in refused {
                Self.expectProblem(reply, 503, "password-hashing-busy")
                #expect(Self.retryAfter(reply).map { $0 >= 1 } == true, "\(reply.headers)")
                #expect(try await system.redis.hget(BetMakerSystem.keys.logins, login) == nil, "\(login) was refused, so not registered")
            }
            // Once the flood is over, a refused registration goes through.
            let login = try #require(refused.keys.first)
            let retried = try await system.request(.POST, "/users", json: #"{"login": "\#(login)", "password": "\#(Self.password)"}"#)
            #expect(retried.status == 201, "\(retried.body)")
        }
    }

    @Test func playsAreLimitedPerClientAddress() async throws {
        let settings = ["PLAYS_RATE_PER_MINUTE": "1", "PLAYS_RATE_BURST": "2"].merging(Self.behindProxy) { $1 }
        try await withSystem(apiSettings: settings) { system in
            for index in 1...2 {
                let play = try await system.request(
                    .POST, "/plays", json: #"{"email": "p\#(index)@example.com"}"#, headers: Self.from("203.0.113.7"))
                #expect(play.status == 200, "\(play.body)")
            }
            let refused = try await system.request(
                .POST, "/plays", json: #"{"email": "p3@example.com"}"#, headers: Self.from("203.0.113.7"))
            Self.expectProblem(refused, 429, "rate-limited")
            #expect(Self.retryAfter(refused).map { (1...60).contains($0) } == true)
            #expect(try await system.redis.exists([BetMakerSystem.keys.contact(EmailAddress.subscriberHash(of: "p3@example.com"))]) == 0)
            let other = try await system.request(.POST, "/plays", json: #"{"email": "p3@example.com"}"#, headers: Self.from("198.51.100.7"))
            #expect(other.status == 200, "\(other.body)")
        }
    }

    /// Double opt-in by default: a new address reaches the ESP as `pending`, and the ESP mails it a
    /// confirmation; `ESP_STATUS_IF_NEW=subscribed` is the explicit choice of the old behaviour.
    @Test func aNewAddressReachesTheESPPendingUnlessConfiguredOtherwise() async throws {
        for (settings, expected) in [([String: String](), "pending"), (["ESP_STATUS_IF_NEW": "subscribed"], "subscribed")] {
            try await withFakeESP { esp in
                let all = esp.settings.merging(settings) { $1 }
                try await withSystem(apiSettings: all) { system in
                    #expect(try await system.request(.POST, "/plays", json: #"{"email": "new@example.com"}"#).status == 200)
                    let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: all)
                    #expect(await eventually { esp.holds("new@example.com") })
                    #expect(esp.status(of: "new@example.com") == expected, "\(settings)")
                    #expect(await worker.stop() == 0)
                }
            }
        }
    }

    @Test func badLimitSettingsAreRefusedAtStart() async throws {
        for (name, value, message) in [
            ("ESP_STATUS_IF_NEW", "yes", "ESP_STATUS_IF_NEW must be pending (double opt-in) or subscribed"),
            ("TRUSTED_PROXY_HEADER", "X Forwarded", "TRUSTED_PROXY_HEADER must be a header name"),
            ("AUTH_RATE_BURST", "0", "AUTH_RATE_BURST must be a whole number from 1"),
            ("BCRYPT_THREADS", "0", "BCRYPT_THREADS must be a whole number from 1"),
            ("LOGIN_FAILURES_PER_HOUR", "-1", "LOGIN_FAILURES_PER_HOUR must be a whole number from 1"),
            ("LIVE_STREAMS_PER_USER", "0", "LIVE_STREAMS_PER_USER must be a whole number from 1"),
            ("API_OPERATIONS_PORT", "8080", "API_OPERATIONS_PORT (8080) must differ from WEB_SERVER_PORT"),
        ] {
            // Refused before Redis is even asked: no server is needed.
            let (status, output) = try await BetMakerProcesses.run(
                "betmaker-api", [], redisURL: "redis://127.0.0.1:1/0", settings: [name: value, "WEB_SERVER_PORT": "8080"])
            #expect(status == 2 && output.contains(message), "\(name)=\(value): \(status) \(output)")
        }
    }
}
