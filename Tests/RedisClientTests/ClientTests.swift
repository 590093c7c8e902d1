import Foundation
import NIOCore
import ServiceLifecycle
import TestSupport
import Testing

@testable import RedisClient

/// The client against a real redis-server started for each test.
@Suite struct ClientTests {
    @Test func stringsAndKeys() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await redis.ping() == "PONG")
            #expect(try await redis.get("missing") == nil)
            #expect(try await redis.set("k", to: "v"))
            #expect(try await redis.get("k") == "v")
            #expect(try await redis.set("k", to: "other", condition: .ifNotExists) == false)
            #expect(try await redis.set("fresh", to: "1", condition: .ifExists) == false)
            #expect(try await redis.incr("n") == 1)
            #expect(try await redis.incr("n", by: 41) == 42)
            #expect(try await redis.exists(["k", "n", "missing"]) == 2)
            #expect(try await redis.expire("k", after: .seconds(100)))
            #expect(try await redis.send(RedisCommand("PTTL", "k")).int(for: "PTTL") > 90_000)
            #expect(try await redis.del(["k", "n"]) == 2)
            // Binary-safe round trip, including bytes that are not UTF-8.
            let bytes: [UInt8] = [0, 255, 13, 10, 128]
            _ = try await redis.send(RedisCommand("SET", "bin", bytes))
            #expect(try await redis.send(RedisCommand("GET", "bin")) == .bulkString(ByteBuffer(bytes: bytes)))
        }
    }

    @Test func hashes() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await redis.hgetall("h") == [:])
            #expect(try await redis.hset("h", ["a": "1", "b": "two"]) == 2)
            #expect(try await redis.hget("h", "b") == "two")
            #expect(try await redis.hget("h", "zzz") == nil)
            #expect(try await redis.hmget("h", ["a", "zzz", "b"]) == ["1", nil, "two"])
            #expect(try await redis.hincrby("h", "a", by: 9) == 10)
            #expect(try await redis.hgetall("h") == ["a": "10", "b": "two"])
            #expect(try await redis.hdel("h", ["a"]) == 1)
        }
    }

    @Test func listsAndSets() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await redis.rpush("l", ["a", "b", "c"]) == 3)
            #expect(try await redis.lrange("l", 1, -1) == ["b", "c"])
            #expect(try await redis.llen("l") == 3)
            #expect(try await redis.sadd("s", ["x", "y", "x"]) == 2)
            #expect(try await redis.sismember("s", "x"))
            #expect(try await redis.sismember("s", "z") == false)
            #expect(try await redis.smembers("s") == ["x", "y"])
            #expect(try await redis.srem("s", ["x"]) == 1)
            #expect(try await redis.scard("s") == 1)
        }
    }

    @Test func sortedSets() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await redis.zadd("z", [(1, "a"), (2, "b"), (3, "c"), (4, "d")]) == 4)
            #expect(try await redis.zcard("z") == 4)
            #expect(try await redis.zscore("z", "c") == 3)
            let forward = try await redis.zrangeByScore("z", min: .inclusive(2), max: .positiveInfinity)
            #expect(forward.map(\.member) == ["b", "c", "d"])
            #expect(forward.map(\.score) == [2, 3, 4])
            let reversed = try await redis.zrangeByScore(
                "z", min: .negativeInfinity, max: .exclusive(4), reverse: true, limit: (offset: 0, count: 2))
            #expect(reversed.map(\.member) == ["c", "b"])
            #expect(try await redis.zrem("z", ["a"]) == 1)

            #expect(try await redis.zadd("lex", [(0, "a1"), (0, "a2"), (0, "b1"), (0, "c1")]) == 4)
            #expect(try await redis.zrangeByLex("lex", min: .minimum, max: .exclusive("b1"), reverse: true) == ["a2", "a1"])
            #expect(try await redis.zrangeByLex("lex", min: .inclusive("b1"), max: .maximum, limit: (0, 1)) == ["b1"])
        }
    }

    @Test func streamsWithAConsumerGroup() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await redis.xgroupCreate("events", group: "workers"))
            // A second creation reports BUSYGROUP as "already there", not as an error.
            #expect(try await redis.xgroupCreate("events", group: "workers") == false)
            let first = try await redis.xadd("events", fields: ["event": "e1", "result": "WIN"])
            let second = try await redis.xadd("events", fields: ["event": "e2", "result": "LOSE"], approximateMaxLength: 1000)
            #expect(try await redis.xlen("events") == 2)

            let delivered = try await redis.xreadgroup("events", group: "workers", consumer: "c1", count: 10)
            #expect(
                delivered == [
                    StreamEntry(id: first, fields: ["event": "e1", "result": "WIN"]),
                    StreamEntry(id: second, fields: ["event": "e2", "result": "LOSE"]),
                ])
            // Own pending entries are read again from id 0.
            #expect(try await redis.xreadgroup("events", group: "workers", consumer: "c1", id: "0").map(\.id) == [first, second])

            let summary = try await redis.xpendingSummary("events", group: "workers")
            #expect(summary.count == 2)
            #expect(summary.lowestID == first)
            #expect(summary.consumers == ["c1": 2])

            let pending = try await redis.xpending("events", group: "workers", count: 10)
            #expect(pending.map(\.id) == [first, second])
            #expect(pending.allSatisfy { $0.consumer == "c1" && $0.deliveries == 2 })

            let claimed = try await redis.xautoclaim("events", group: "workers", consumer: "c2", minIdle: .zero)
            #expect(claimed.entries.map(\.id) == [first, second])
            #expect(claimed.nextCursor == "0-0")
            #expect(claimed.deletedIDs.isEmpty)

            #expect(try await redis.xack("events", group: "workers", ids: [first]) == 1)
            #expect(try await redis.xpendingSummary("events", group: "workers").count == 1)

            // An entry trimmed away while pending is reported as deleted.
            #expect(try await redis.xtrim("events", minID: "18446744073709551615-0", approximate: false) == 2)
            let afterTrim = try await redis.xautoclaim("events", group: "workers", consumer: "c2", minIdle: .zero)
            #expect(afterTrim.deletedIDs == [second])

            await #expect(throws: RedisError.self) { try await redis.xpendingSummary("nostream", group: "none") }
        }
    }

    @Test func blockingReadOnADedicatedConnectionTimesOutEmpty() async throws {
        try await withRedis { (_, redis) async throws in
            try await redis.xgroupCreate("s", group: "g")
            let connection = try await redis.dedicatedConnection()
            defer { connection.closeNow() }
            let nothing = try await connection.xreadgroup("s", group: "g", consumer: "c", block: .milliseconds(50))
            #expect(nothing.isEmpty)
            // A blocked read is answered as soon as an entry arrives.
            async let waiting = connection.xreadgroup("s", group: "g", consumer: "c", block: .seconds(20))
            let id = try await redis.xadd("s", fields: ["k": "v"])
            #expect(try await waiting.map(\.id) == [id])
        }
    }

    @Test func typedCommandsReportUnexpectedShapes() async throws {
        try await withRedis { (_, redis) async throws in
            try await redis.set("plain", to: "text")
            do {
                _ = try await redis.hgetall("plain")
                Issue.record("HGETALL on a string must fail")
            } catch let error as RedisError {
                #expect(error.serverCode == "WRONGTYPE")
            }
            do {
                _ = try await redis.send(RedisCommand("GET", "plain")).int(for: "GET")
                Issue.record("a bulk string is not an integer")
            } catch let error as RedisError {
                guard case .unexpectedReply(let command, _) = error else {
                    Issue.record("wrong error \(error)")
                    return
                }
                #expect(command == "GET")
            }
        }
    }

    @Test func tenThousandConcurrentCommandsOnOneConnectionGetTheirOwnReplies() async throws {
        try await withRedis(poolSize: 1) { (_, redis) async throws in
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<100 {
                    group.addTask {
                        var wrong = 0
                        for index in 0..<100 {
                            let token = "t\(task)-\(index)"
                            let reply = try await redis.send(RedisCommand("ECHO", token))
                            if reply.string != token { wrong += 1 }
                        }
                        return wrong
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
            let info = try await redis.infoFields("clients")
            #expect(info["connected_clients"] == "1")
        }
    }

    @Test func pipelineSendsABatchAndKeepsPerCommandOutcomes() async throws {
        try await withRedis { (_, redis) async throws in
            var commands = (0..<200).map { RedisCommand("SET", "key\($0)", "\($0)") }
            commands.append(RedisCommand("INCR", "key7"))
            commands.append(RedisCommand("HGET", "key1", "field"))
            commands.append(RedisCommand("GET", "key199"))
            let results = try await redis.pipeline(commands)
            #expect(results.count == 203)
            #expect(try results[0].get() == .simpleString("OK"))
            #expect(try results[200].get() == .integer(8))
            #expect(throws: RedisError.self) { try results[201].get() }
            #expect(try results[202].get().string == "199")
            #expect(try await redis.pipeline([]).isEmpty)
        }
    }

    @Test func scriptsRunBySHAAndReloadAfterFlush() async throws {
        try await withRedis { (_, redis) async throws in
            let script = RedisScript(name: "add", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await redis.scriptsExist([script]) == false)
            #expect(try await redis.eval(script, keys: ["n"], arguments: ["5"]) == .integer(5))
            #expect(try await redis.scriptsExist([script]))
            _ = try await redis.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await redis.scriptsExist([script]) == false)
            #expect(try await redis.eval(script, keys: ["n"], arguments: ["2"]) == .integer(7))
            try await redis.load([script])
            #expect(try await redis.scriptsExist([script]))
            // A script's own error comes back as a server error with its message.
            let failing = RedisScript(name: "fail", source: "return redis.error_reply('CLOSED event is settled')")
            do {
                _ = try await redis.eval(failing)
                Issue.record("the script's error must be thrown")
            } catch let error as RedisError {
                #expect(error == .server(RedisServerError(code: "CLOSED", message: "event is settled")))
            }
        }
    }

    @Test func authenticatesAndSelectsTheDatabaseFromTheURL() async throws {
        try await withRedisServer(extraArguments: ["--requirepass", "s3cret"]) { server in
            var configuration = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3")
            configuration.clientName = "betmaker-test"
            configuration.connectTimeout = RedisServer.testConnectTimeout
            try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
                try await redis.set("where", to: "db3")
                let clients = try await redis.send(RedisCommand("CLIENT", "INFO")).string ?? ""
                #expect(clients.contains("db=3"))
                #expect(clients.contains("name=betmaker-test"))
            }
            configuration.database = 0
            try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
                #expect(try await redis.get("where") == nil)
            }
            configuration.password = "wrong"
            try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
                await #expect(throws: RedisError.self) { try await redis.ping() }
            }
        }
    }
}

/// The options the client sets on its sockets, read back from a live connection with getsockopt.
@Suite struct SocketOptionTests {
    @Test func nagleIsOffAtTheTCPLevelAndNothingNeedsAPrivilege() async throws {
        try await withRedisServer { server in
            let connection = try await RedisConnection.connect(configuration: server.configuration)
            defer { connection.closeNow() }
            let channel = connection.channel
            #expect(try await channel.getOption(.tcpOption(.tcp_nodelay)).get() == 1)
            #expect(try await channel.getOption(.socketOption(.so_keepalive)).get() == 1)
            // Option 1 at SOL_SOCKET: setting it needs CAP_NET_ADMIN, which a container never has.
            #expect(try await channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get() == 0)
            #expect(try await connection.send(RedisCommand("PING")) == .simpleString("PONG"))
        }
    }
}
