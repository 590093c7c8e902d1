import Foundation
import Logging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import TestSupport
import Testing

@testable import RedisClient

/// What the client does when Redis hangs, dies, comes back, or the caller gives up.
@Suite struct FaultTests {
    @Test func aCommandPastItsDeadlineFailsAndTheConnectionIsReplaced() async throws {
        try await withRedis(poolSize: 1, configure: { $0.commandTimeout = .milliseconds(300) }) { server, redis in
            // The 300 ms deadline holds for every command: on a loaded machine even this one may miss it
            // (and its connection be replaced), so ask until one answers.
            var before: Int?
            #expect(
                await eventually {
                    before = try await redis.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT")
                    return true
                })
            server.signal(SIGSTOP)
            do {
                _ = try await redis.ping()
                Issue.record("a frozen server cannot answer")
            } catch let error as RedisError {
                guard case .timeout(let command, _) = error else {
                    Issue.record("expected a timeout, got \(error)")
                    return
                }
                #expect(command == "PING")
                #expect(error.mayHaveRun, "a command sent and not answered may have run")
            }
            server.signal(SIGCONT)
            // Likewise after SIGCONT.
            var after: Int?
            #expect(
                await eventually {
                    after = try await redis.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT")
                    return true
                })
            #expect(before != nil && after != nil && after != before, "the timed-out connection must have been replaced")
        }
    }

    @Test func commandsInFlightFailPromptlyWhenRedisDiesAndTheClientRecovers() async throws {
        try await withRedis(poolSize: 1, configure: { $0.commandTimeout = .seconds(60) }) { server, redis in
            try await redis.set("survivor", to: "no")
            server.signal(SIGSTOP)
            let inFlight = Task {
                try await withThrowingTaskGroup(of: RedisError?.self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            do {
                                _ = try await redis.send(RedisCommand("ECHO", "\(index)"))
                                return nil
                            } catch let error as RedisError {
                                return error
                            }
                        }
                    }
                    return try await group.reduce(into: [RedisError?]()) { $0.append($1) }
                }
            }
            #expect(await eventually { await redis.pendingCount() == 50 })
            await server.kill()
            let errors = try await inFlight.value
            // Each failed because the connection closed, long before its 60 s deadline.
            #expect(errors.count == 50)
            #expect(errors.allSatisfy { if case .connectionClosed = $0 { true } else { false } })
            #expect(errors.allSatisfy { $0?.mayHaveRun == true })

            // While Redis is down, calls fail at once instead of waiting.
            do {
                _ = try await redis.ping()
                Issue.record("Redis is down")
            } catch let error as RedisError {
                #expect(error.isConnectivity)
                #expect(!error.mayHaveRun, "nothing can have been sent: \(error)")
                if case .timeout = error { Issue.record("must fail fast, not time out") }
            }

            try await server.launch()
            #expect(await eventually { (try? await redis.ping()) == "PONG" })
            try await redis.set("survivor", to: "yes")
            #expect(try await redis.get("survivor") == "yes")
        }
    }

    @Test func aCancelledCommandDoesNotDisturbTheConnection() async throws {
        // Far beyond the time Redis stays frozen here, even on a loaded machine: what is tested is
        // the cancellation, not the deadline, which would rightly replace the connection.
        try await withRedis(poolSize: 1, configure: { $0.commandTimeout = .seconds(300) }) { server, redis in
            let connectionID = try await redis.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT")
            server.signal(SIGSTOP)
            let abandoned = Task { try await redis.send(RedisCommand("ECHO", "first")) }
            #expect(await eventually { await redis.pendingCount() == 1 })
            abandoned.cancel()
            await #expect(throws: CancellationError.self) { try await abandoned.value }
            server.signal(SIGCONT)
            // The reply to "first" still arrives and is dropped; the next caller gets its own reply.
            #expect(try await redis.send(RedisCommand("ECHO", "second")).string == "second")
            #expect(try await redis.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT") == connectionID)
        }
    }

    /// Cancellation that comes before the command is handed to the connection: `onCancel` runs at
    /// once, before the submission. The command must not be sent to wait out its block time.
    @Test func aTaskCancelledBeforeItSendsABlockingCommandGetsCancellationErrorAndSendsNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let connection = try await redis.dedicatedConnection()
            let connectionID = try await connection.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT")
            let blocking = {
                var command = RedisCommand("BLPOP", "nothing-here", "8")
                command.isBlocking = true
                command.timeout = .seconds(13)
                return command
            }()
            let single = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await connection.send(blocking)
            }
            await #expect(throws: CancellationError.self) { try await single.value }
            let batch = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await connection.pipeline([blocking, RedisCommand("PING")])
            }
            await #expect(throws: CancellationError.self) { try await batch.value }

            // Nothing waits on the connection, it is still open, and it answers in step.
            #expect(await connection.pendingCount() == 0)
            #expect(connection.isActive)
            #expect(try await connection.send(RedisCommand("ECHO", "after")).string == "after")
            #expect(try await connection.send(RedisCommand("CLIENT", "ID")).int(for: "CLIENT") == connectionID)
            let stats = try await connection.send(RedisCommand("INFO", "commandstats")).string ?? ""
            #expect(!stats.contains("cmdstat_blpop"), "BLPOP was sent: \(stats)")
            await connection.close()
        }
    }

    @Test func aCancelledBlockingReadClosesItsDedicatedConnection() async throws {
        try await withRedis { (_, redis) async throws in
            try await redis.xgroupCreate("s", group: "g")
            let connection = try await redis.dedicatedConnection()
            let reader = Task { try await connection.xreadgroup("s", group: "g", consumer: "c", block: .seconds(30)) }
            #expect(await eventually { await connection.pendingCount() == 1 })
            reader.cancel()
            await #expect(throws: CancellationError.self) { try await reader.value }
            try await connection.closeFuture.get()
            #expect(connection.isActive == false)
        }
    }

    @Test func gracefulShutdownClosesTheConnections() async throws {
        try await withRedisServer { server in
            let redis = RedisClient(configuration: server.configuration)
            let group = ServiceGroup(
                configuration: .init(services: [redis], gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test"))
            )
            let running = Task { try await group.run() }
            #expect(await eventually { (try? await redis.ping()) == "PONG" })
            await group.triggerGracefulShutdown()
            try await running.value
            await #expect(throws: RedisError.connectionUnavailable("client shut down")) { try await redis.ping() }
        }
    }

    @Test func recordsCommandAndErrorMetrics() async throws {
        let metrics = TestMetrics()
        try await withRedisServer { server in
            let redis = RedisClient(configuration: server.configuration, metricsFactory: metrics)
            try await redis.withRunning { (redis) async throws in
                try await redis.set("k", to: "v")
                _ = try await redis.get("k")
                _ = try? await redis.hgetall("k")
            }
        }
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "GET")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "HGETALL")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_command_errors_total", [("command", "HGETALL"), ("kind", "server")]).totalValue == 1)
        #expect(try metrics.expectTimer("redis_command_duration_seconds", [("command", "SET")]).values.count == 1)
    }
}
