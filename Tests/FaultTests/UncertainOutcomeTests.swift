import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Errors that tell the truth, over the real processes: a write Redis never answered may have taken
/// effect (`outcome-unknown`), one never sent changed nothing (`storage-unavailable`), and a retry
/// with the same `Idempotency-Key` pays exactly once (docs/ARCHITECTURE.md, "Errors").
@Suite(.serialized) struct UncertainOutcomeTests {
    static let bet = #"{"event_id": "demo-derby", "amount": "10.00"}"#

    /// The seeded player (1000.00 on their account), logged in.
    static func demoPlayer(_ system: BetMakerSystem) async throws -> String {
        let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
        guard seeded.status == 0 else { throw TestSupportError("seed failed: \(seeded.output)") }
        let login = try await system.request(.POST, "/auth", json: #"{"login": "demo", "password": "demo-password"}"#)
        guard let token = login.string["access_token"] else { throw TestSupportError("demo cannot log in: \(login.body)") }
        return token
    }

    /// How many times Redis has run `command` so far (`INFO commandstats`).
    static func calls(_ command: String, _ redis: RedisClient) async throws -> Int {
        let info = try await redis.send(RedisCommand("INFO", "commandstats")).string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):") }
        return line.flatMap { $0.split(separator: ",").first?.split(separator: "=").last }.flatMap { Int($0) } ?? 0
    }

    /// The bet's script is sent and Redis freezes before answering: the stake may have been debited,
    /// so the API must not say "nothing was changed". The retries with the same key then pay once.
    @Test func aBetRedisNeverAnsweredIsOutcomeUnknownAndRetriesWithItsKeyPayOnce() async throws {
        try await withBetMakerSystem(apiSettings: ["REDIS_COMMAND_TIMEOUT_MS": "500"]) { system in
            let token = try await Self.demoPlayer(system)
            let headers = [("Authorization", "Bearer \(token)"), ("Idempotency-Key", "stopped-redis-1")]
            // Readiness loads the scripts, so the frozen EVALSHA can run when Redis thaws instead of
            // failing with NOSCRIPT (with nobody left to repeat it as EVAL).
            #expect(try await system.get(system.operationsURL + "/health/ready").status == 200)

            // The request head goes first: the API checks the token (a read, answered) and waits for
            // the body. Only then is Redis frozen, so the bet's script is what goes unanswered.
            let tokenChecks = try await Self.calls("hmget", system.redis)
            let (body, feed) = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: system.baseURL + "/bets")
            request.method = .POST
            for (name, value) in headers + [("Content-Type", "application/json")] { request.headers.add(name: name, value: value) }
            request.body = .stream(body, length: .known(Int64(Self.bet.utf8.count)))
            feed.yield(ByteBuffer(string: String(Self.bet.prefix(1))))
            let answer = Task {
                let response = try await system.http.execute(request, timeout: .seconds(30))
                let text = try await response.body.collect(upTo: 1 << 20)
                return BetMakerSystem.Reply(status: Int(response.status.code), body: String(buffer: text), headers: response.headers)
            }
            #expect(await eventually { try await Self.calls("hmget", system.redis) > tokenChecks }, "the token was checked")
            system.redisServer.signal(SIGSTOP)
            let frozen = ContinuousClock.now
            feed.yield(ByteBuffer(string: String(Self.bet.dropFirst(1))))
            feed.finish()
            let first = try await answer.value
            let waited = ContinuousClock.now - frozen

            #expect(first.status == 503, "\(first.body)")
            #expect(first.string["type"] == "/problems/outcome-unknown", "\(first.body)")
            #expect(first.string["detail"]?.contains("Idempotency-Key") == true, "\(first.body)")
            #expect(first.headers.first(name: "Retry-After") != nil)
            // REDIS_COMMAND_TIMEOUT_MS, not the 5 s default nor the HTTP client's 30 s; generous for a busy machine.
            #expect(waited < .seconds(4), "answered after \(waited)")

            // A read while Redis is frozen changed nothing, whatever became of it.
            let reading = try await system.request(.GET, "/events/demo-derby")
            #expect(reading.status == 503 && reading.string["type"] == "/problems/storage-unavailable", "\(reading.body)")

            system.redisServer.signal(SIGCONT)
            // The client retries with the same key until it gets an answer, as the detail advises.
            var retry: BetMakerSystem.Reply?
            #expect(
                await eventually {
                    retry = try await system.request(.POST, "/bets", json: Self.bet, headers: headers)
                    return retry?.status == 201
                }, "\(retry?.body ?? "no answer")")
            let betID = retry?.string["id"]
            // Thawed, Redis ran what it had received before the API gave up on it. A bet with money
            // first reads the user and the event (most refusals end there, before money moves), so
            // that read is what froze: the retry then places the bet itself. Had the freeze caught the
            // hold or the event's step, the retry would finish that bet and answer it as replayed
            // (WalletReconcileTests). Either way: one bet, one stake.
            #expect(retry?.status == 201, "\(retry?.body ?? "")")

            let bets = try await system.request(.GET, "/bets", token: token)
            guard case .array(let listed)? = bets.json else { throw TestSupportError("no listing: \(bets.body)") }
            #expect(listed.count == 1, "exactly one bet: \(bets.body)")
            #expect(bets.body.contains(betID ?? "-"), "\(bets.body)")
            let me = try await system.request(.GET, "/users/me", token: token)
            #expect(me.body.contains(#""balance":"990.00""#), "debited once: \(me.body)")
            #expect(me.body.components(separatedBy: #""type":"stake""#).count - 1 == 1, "one stake transaction: \(me.body)")
            try await ProcessFaultTests.expectInvariantsHold(system)
        }
    }

    /// Redis is down (killed): nothing can be sent, so every write says nothing changed and when to
    /// retry, and a bet retried later is placed normally.
    @Test func whileRedisIsDownWritesSayStorageUnavailable() async throws {
        try await withBetMakerSystem { system in
            let token = try await Self.demoPlayer(system)
            await system.redisServer.kill()
            // The first requests may still find a connection that has not yet noticed the crash.
            #expect(
                await eventually {
                    let reply = try await system.request(.POST, "/bets", json: #"{"event_id": "down", "amount": "1"}"#)
                    return reply.string["type"] == "/problems/storage-unavailable"
                })
            let writes: [(HTTPMethod, String, String, String?)] = [
                (.POST, "/bets", #"{"event_id": "down", "amount": "1"}"#, nil),
                (.POST, "/bets", Self.bet, token),
                (.PUT, "/events/down", #"{"status": "WIN"}"#, nil),
                (.POST, "/users", #"{"login": "newcomer", "password": "a long password"}"#, nil),
                (.POST, "/auth", #"{"login": "demo", "password": "demo-password"}"#, nil),
            ]
            for (method, path, json, token) in writes {
                let headers = token.map { [("Authorization", "Bearer \($0)"), ("Idempotency-Key", "down-1")] } ?? []
                let reply = try await system.request(method, path, json: json, headers: headers)
                #expect(reply.status == 503, "\(method) \(path): \(reply.body)")
                #expect(reply.string["type"] == "/problems/storage-unavailable", "\(method) \(path): \(reply.body)")
                #expect(reply.headers.first(name: "Retry-After") != nil, "\(method) \(path)")
            }

            try await system.redisServer.launch()
            #expect(
                await eventually {
                    try await system.request(.POST, "/bets", json: Self.bet, headers: [("Authorization", "Bearer \(token)")]).status == 201
                })
            // The test's own client reconnects with backoff too.
            #expect(await eventually { try await system.redis.ping() == "PONG" })
            try await ProcessFaultTests.expectInvariantsHold(system)
        }
    }
}

/// The executables' own commands against misconfiguration and a hung server.
@Suite struct CommandFaultTests {
    /// A REDIS_URL the parser refuses may hold its password anywhere; the message printed on the way
    /// out (and so into container logs) must not repeat it.
    @Test(arguments: ["http://alice:hunter2-pw@cache:6379/0", "redis://alice:hunter2-pw", "redis://cache:6379/hunter2-pw"])
    func anInvalidRedisURLIsNeverPrinted(url: String) async throws {
        let commands = [("betmaker-api", []), ("betmaker-api", ["seed"]), ("betmaker-worker", []), ("betmaker-worker", ["check"])]
        for (executable, arguments) in commands {
            let process = try ChildProcess(
                name: "\(executable) \(arguments)", executable: try BetMakerProcesses.executable(executable),
                arguments: arguments + ["--env-file", "/nonexistent/.env"],
                environment: ["PATH": "/usr/bin:/bin", "REDIS_URL": url])
            let (status, output) = await process.waitForCompletion(timeout: .seconds(60))
            #expect(status == 2, "\(executable) \(arguments): \(output)")
            #expect(output.contains("REDIS_URL"), "\(executable) \(arguments) names the setting: \(output)")
            #expect(!output.contains("hunter2"), "\(executable) \(arguments) printed the password: \(output)")
        }
    }

    /// `healthcheck` against an API that accepts connections and never answers ends on its own, with
    /// a failure, instead of hanging the container's health check.
    @Test func healthcheckOfAServerThatNeverAnswersFails() async throws {
        try await withSilentListener { port in
            let started = ContinuousClock.now
            let process = try ChildProcess(
                name: "betmaker-api healthcheck", executable: try BetMakerProcesses.executable("betmaker-api"),
                arguments: ["healthcheck", "--env-file", "/nonexistent/.env"],
                environment: ["PATH": "/usr/bin:/bin", "API_OPERATIONS_PORT": "\(port)"])
            // waitForExit kills the process after 60 s; a probe that ends by itself does so within seconds.
            let (status, output) = await process.waitForCompletion(timeout: .seconds(60))
            #expect(ContinuousClock.now - started < .seconds(30), "the probe hung: \(output)")
            #expect(status == 1, "\(output)")
            #expect(output.contains("no HTTP status line within"), "\(output)")
        }
    }
}
