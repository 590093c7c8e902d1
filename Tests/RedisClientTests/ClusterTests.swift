import Foundation
import MetricsTestKit
import NIOCore
import TestSupport
import Testing

@testable import RedisClient

/// The client in cluster mode against a real 6-node cluster (3 masters, 3 replicas) per test. One at
/// a time: each is six redis-servers, and the fault tests measure recovery times.
@Suite(.serialized) struct ClusterTests {
    /// A fresh cluster and a running cluster-mode client with metrics of its own.
    static func withClusterClient(
        configure: (inout RedisConfiguration) -> Void = { _ in }, _ body: (RedisCluster, RedisClient, TestMetrics) async throws -> Void
    ) async throws {
        try await withRedisCluster { cluster in
            var configuration = cluster.configuration
            configure(&configuration)
            let metrics = TestMetrics()
            try await RedisClient(configuration: configuration, metricsFactory: metrics).withRunning { (redis) async throws in
                try await body(cluster, redis, metrics)
            }
        }
    }

    static func redirects(_ kind: String, _ metrics: TestMetrics) throws -> Int64 {
        try metrics.expectCounter("redis_cluster_redirects_total", [("kind", kind)]).totalValue
    }

    /// A key `{<prefix><n>}` whose slot `node` serves (a hash tag, so `{...}:more` goes there too).
    static func key(_ prefix: String, on node: RedisServer, in cluster: RedisCluster) async throws -> String {
        let slots = try await cluster.view(from: node).first { $0.isMyself }?.slots ?? []
        for index in 0..<100_000 where slots.contains(where: { $0.contains(HashSlot.of("\(prefix)\(index)")) }) {
            return "{\(prefix)\(index)}"
        }
        throw TestSupportError("no key for port \(node.port)")
    }

    @Test func routesTenThousandKeysToTheMastersThatOwnTheirSlots() async throws {
        try await Self.withClusterClient { cluster, redis, metrics in
            let keys = (0..<10_000).map { "key:\($0)" }
            for start in stride(from: 0, to: keys.count, by: 500) {
                for reply in try await redis.pipeline(keys[start..<(start + 500)].map { RedisCommand("SET", $0, $0) }) {
                    _ = try reply.get()
                }
            }
            // Every command went straight to its owner: the client's own routing, no redirect needed.
            #expect(try Self.redirects("moved", metrics) == 0)
            #expect(try Self.redirects("ask", metrics) == 0)

            var expected: [Int: Int] = [:]
            for key in keys { expected[HashSlot.of(key), default: 0] += 1 }
            var checkedSlots = 0
            // The owners as the nodes see them, and the keys each owner holds, slot by slot.
            for line in try await cluster.view(from: cluster.nodes[0]) where line.isMaster && !line.slots.isEmpty {
                let owner = try #require(cluster.node(at: line.endpoint))
                let slots = expected.keys.filter { slot in line.slots.contains { $0.contains(slot) } }.sorted()
                try await cluster.withConnection(to: owner) { connection in
                    let counts = try await connection.pipeline(slots.map { RedisCommand("CLUSTER", "COUNTKEYSINSLOT", $0) })
                    for (slot, count) in zip(slots, counts) where try count.get().int(for: "COUNTKEYSINSLOT") != expected[slot] {
                        Issue.record("slot \(slot) on port \(owner.port): \(count), expected \(expected[slot] ?? 0)")
                    }
                    #expect(try await connection.send(RedisCommand("DBSIZE")).int(for: "DBSIZE") == slots.reduce(0) { $0 + expected[$1]! })
                }
                checkedSlots += slots.count
            }
            #expect(checkedSlots == expected.count)

            // The server's CLUSTER KEYSLOT agrees with the client's hash tags.
            let samples =
                ["123456789", "{user1000}.following", "foo{}{bar}", "{}", "{a}{b}", "{{a}}", "bets{ev:42}", "user{42"] + keys.prefix(200)
            let slots = try await redis.pipeline(samples.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
            for (key, slot) in zip(samples, slots) { #expect(try slot.get().int(for: "KEYSLOT") == HashSlot.of(key), "\(key)") }

            let values = try await redis.pipeline(keys.prefix(1000).map { RedisCommand("GET", $0) })
            #expect(try values.map { try $0.get().string } == keys.prefix(1000).map { Optional($0) })
        }
    }

    @Test func refusesACommandWhoseKeysSpanSlotsBeforeSendingIt() async throws {
        try await Self.withClusterClient { cluster, redis, _ in
            await #expect(throws: RedisError.crossSlot(command: "MGET", keys: ["a", "b"])) {
                try await redis.send(RedisCommand("MGET", "a", "b"))
            }
            let script = RedisScript(name: "two", source: "return redis.call('GET', KEYS[1])")
            await #expect(throws: RedisError.crossSlot(command: "EVALSHA", keys: ["{ev:1}:a", "{ev:2}:b"])) {
                try await redis.eval(script, keys: ["{ev:1}:a", "{ev:2}:b"])
            }
            // In a pipeline the refused command fails alone; the others run.
            let replies = try await redis.pipeline([
                RedisCommand("SET", "{t}:a", "1"), RedisCommand("DEL", "a", "b"), RedisCommand("GET", "{t}:a"),
            ])
            #expect(try replies[0].get() == .simpleString("OK"))
            #expect(throws: RedisError.crossSlot(command: "DEL", keys: ["a", "b"])) { try replies[1].get() }
            #expect(try replies[2].get().string == "1")
            // Same-slot keys pass.
            #expect(try await redis.send(RedisCommand("MGET", "{t}:a", "{t}:b")) == .array([.bulkString(ByteBuffer(string: "1")), .null]))
            for node in try await cluster.masters() {
                let stats = try await cluster.send(RedisCommand("INFO", "commandstats"), to: node).string(for: "INFO")
                #expect(
                    !stats.contains("cmdstat_del:") && !stats.contains("cmdstat_evalsha:"), "a refused command reached port \(node.port)")
            }
        }
    }

    @Test func keylessCommandsRideWithTheWriteBeforeThemAndWaitCountsItsReplica() async throws {
        try await Self.withClusterClient { cluster, redis, _ in
            let masters = try await cluster.masters()
            let first = try await Self.key("w1:", on: masters[0], in: cluster)
            let second = try await Self.key("w2:", on: masters[1], in: cluster)
            let replies = try await redis.pipeline([
                RedisCommand("CLIENT", "INFO"), RedisCommand("SET", first, "1"), RedisCommand("CLIENT", "INFO"),
                .wait(replicas: 1, timeout: .seconds(5)),
                RedisCommand("SET", second, "2"), RedisCommand("CLIENT", "INFO"), .wait(replicas: 1, timeout: .seconds(5)),
            ])
            func serverPort(_ reply: Result<RESPValue, RedisError>) throws -> Int? {
                let info = try reply.get().string(for: "CLIENT INFO")
                let laddr = info.split(separator: " ").first { $0.hasPrefix("laddr=") }
                return laddr.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
            }
            // Leading keyless commands go with the first write, the others with the write before them,
            // on the same connection (the same client id).
            #expect(try serverPort(replies[0]) == masters[0].port)
            #expect(try serverPort(replies[2]) == masters[0].port)
            #expect(try serverPort(replies[5]) == masters[1].port)
            func clientID(_ reply: Result<RESPValue, RedisError>) throws -> Substring? {
                try reply.get().string(for: "CLIENT INFO").split(separator: " ").first { $0.hasPrefix("id=") }
            }
            #expect(try clientID(replies[0]) == clientID(replies[2]))
            #expect(try replies[3].get() == .integer(1), "the replica of the first write's master has it")
            #expect(try replies[6].get() == .integer(1))

            let (reply, replicas) = try await redis.send(RedisCommand("SET", first, "3"), waitingForReplicas: 1, timeout: .seconds(5))
            #expect(reply == .simpleString("OK") && replicas == 1)
            let replica = try await cluster.replica(of: masters[0])
            let onReplica = try await cluster.withConnection(to: replica) { connection in
                _ = try await connection.send(RedisCommand("READONLY"))
                return try await connection.send(RedisCommand("GET", first)).string
            }
            #expect(onReplica == "3")
        }
    }

    @Test func aScriptUnknownToItsNodeIsLoadedThereAndRun() async throws {
        try await Self.withClusterClient { cluster, redis, _ in
            let script = RedisScript(name: "incr", source: "#!lua\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
            let key = "{script}:n"
            let owner = try await cluster.owner(ofSlot: HashSlot.of(key))
            // In a pipeline, behind a WAIT: the node answers NOSCRIPT, gets the script, runs it once.
            let replies = try await redis.pipeline([
                script.evalshaCommand(keys: [key], arguments: ["5"]), .wait(replicas: 1, timeout: .seconds(5)),
            ])
            #expect(try replies[0].get() == .integer(5))
            #expect(try replies[1].get() == .integer(1))
            #expect(try await redis.eval(script, keys: [key], arguments: ["2"]) == .integer(7))
            _ = try await cluster.send(RedisCommand("SCRIPT", "FLUSH"), to: owner)
            #expect(try await redis.eval(script, keys: [key], arguments: ["3"]) == .integer(10))
            let exists = try await cluster.send(RedisCommand("SCRIPT", "EXISTS", script.sha1), to: owner)
            #expect(exists == .array([.integer(1)]))
        }
    }

    @Test func commandsRunOnEveryMasterAndTheMastersAreKnown() async throws {
        try await Self.withClusterClient { cluster, redis, metrics in
            #expect(try await Set(redis.masters().map(\.port)) == Set(cluster.masters().map(\.port)))
            let pings = try await redis.sendToEveryMaster(RedisCommand("PING"))
            #expect(pings.count == 3)
            #expect(try pings.allSatisfy { try $0.reply.get() == .simpleString("PONG") })

            // A SCAN of every master finds every key once: the invariant checker's walk.
            let keys = Set((0..<300).map { "scan:\($0)" })
            for reply in try await redis.pipeline(keys.map { RedisCommand("SET", $0, "x") }) { _ = try reply.get() }
            var found: [String] = []
            for node in try await redis.masters() {
                let connection = try await redis.connection(to: node)
                var cursor = "0"
                repeat {
                    let reply = try await connection.send(RedisCommand("SCAN", cursor, "MATCH", "scan:*", "COUNT", 100)).array(for: "SCAN")
                    cursor = try reply[0].string(for: "SCAN")
                    found += try reply[1].strings(for: "SCAN")
                } while cursor != "0"
            }
            #expect(found.count == keys.count && Set(found) == keys)

            let script = RedisScript(name: "ready", source: "return 1")
            #expect(try await redis.scriptsExist([script]) == false)
            try await redis.load([script])
            #expect(try await redis.scriptsExist([script]))
            _ = try await cluster.send(RedisCommand("SCRIPT", "FLUSH"), to: try await cluster.masters()[1])
            #expect(try await redis.scriptsExist([script]) == false, "one master without the script is not ready")

            // The map's metrics: discovered once with three masters, a pool per master.
            #expect(try metrics.expectGauge("redis_cluster_masters").lastValue == 3)
            #expect(try metrics.expectCounter("redis_cluster_map_refreshes_total", [("outcome", "changed")]).totalValue >= 1)
            for node in try await redis.masters() {
                #expect(try metrics.expectGauge("redis_cluster_node_connections", [("node", node.description)]).lastValue ?? 0 > 0)
            }
        }
    }

    @Test func aBlockingReadHasAConnectionOfItsOwnOnTheStreamsNode() async throws {
        try await Self.withClusterClient { cluster, redis, _ in
            let stream = "{feed}:stream"
            #expect(try await redis.xgroupCreate(stream, group: "g"))
            let owner = try await cluster.owner(ofSlot: HashSlot.of(stream))
            let ownerID = try await cluster.send(RedisCommand("CLUSTER", "MYID"), to: owner)
            let blocking = try await redis.dedicatedConnection(forKey: stream)
            #expect(try await blocking.send(RedisCommand("CLUSTER", "MYID")) == ownerID)
            let reader = Task { try await blocking.xreadgroup(stream, group: "g", consumer: "c", block: .seconds(20)) }
            #expect(await eventually { await blocking.pendingCount() == 1 })
            let id = try await redis.xadd(stream, fields: ["event": "e1"])
            #expect(try await reader.value == [StreamEntry(id: id, fields: ["event": "e1"])])
            // The pool was not held up meanwhile, and the dedicated connection is the caller's to close.
            #expect(await redis.pendingCount() == 0)
            await blocking.close()
        }
    }

    @Test func startsFromAnyAnsweringSeedAndFailsFastWhenNoneAnswers() async throws {
        try await withRedisCluster { cluster in
            var configuration = cluster.configuration
            let dead = try [
                RedisEndpoint(host: "127.0.0.1", port: freeLoopbackPort()), RedisEndpoint(host: "127.0.0.1", port: freeLoopbackPort()),
            ]
            configuration.cluster?.seeds = dead + [cluster.endpoints[4]]
            try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
                #expect(try await redis.ping() == "PONG")
                #expect(try await redis.set("{seed}:k", to: "v"))
                #expect(try await redis.masters().count == 3)
            }
            configuration.cluster?.seeds = dead
            try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
                let started = ContinuousClock.now
                do {
                    _ = try await redis.ping()
                    Issue.record("no seed answers")
                } catch let error as RedisError {
                    #expect(error.isConnectivity && !error.mayHaveRun, "\(error)")
                    guard case .connectionUnavailable(let reason) = error else { throw error }
                    #expect(reason.contains("cluster map"), "\(reason)")
                }
                // Not retried for the retry timeout: without any map there is no failover to wait for.
                #expect(ContinuousClock.now - started < configuration.cluster!.retryTimeout, "fails when discovery fails")
            }
        }
    }
}
