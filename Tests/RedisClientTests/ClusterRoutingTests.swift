import NIOCore
import Synchronization
import Testing

@testable import RedisClient

/// Slots, key positions, redirects and the map, without a server.
@Suite struct ClusterRoutingTests {
    @Test func crc16MatchesTheClusterSpecificationsVector() {
        #expect(HashSlot.crc16("123456789") == 0x31C3)
        #expect(HashSlot.of("123456789") == 0x31C3 & 0x3FFF)
    }

    @Test func hashTagsFollowTheSpecification() {
        // A tag: only its content is hashed.
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        #expect(HashSlot.of("{user1000}.followers") == HashSlot.of("user1000"))
        // An empty tag is no tag: the whole key is hashed, and the later {bar} does not count.
        #expect(HashSlot.of("foo{}{bar}") == Int(HashSlot.crc16("foo{}{bar}") & 0x3FFF))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))
        #expect(HashSlot.of("{}") == Int(HashSlot.crc16("{}") & 0x3FFF))
        // Only the first tag counts.
        #expect(HashSlot.of("{a}{b}") == HashSlot.of("a"))
        // The tag ends at the first } after the first {: "{a".
        #expect(HashSlot.of("{{a}}") == HashSlot.of("{a"))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        // A tag at the end, and an unclosed brace.
        #expect(HashSlot.of("ev:bets{ev:42}") == HashSlot.of("ev:42"))
        #expect(HashSlot.of("user{42") == Int(HashSlot.crc16("user{42") & 0x3FFF))
        // Every slot is in range.
        #expect((0..<2000).allSatisfy { (0..<16384).contains(HashSlot.of("key:\($0)")) })
    }

    @Test func findsTheKeysOfEachKindOfCommand() {
        #expect(RedisCommand("GET", "a").keys == ["a"])
        #expect(RedisCommand("PING").keys == [])
        #expect(RedisCommand("WAIT", 1, 100).keys == [])
        #expect(RedisCommand("MGET", "a", "b", "c").keys == ["a", "b", "c"])
        #expect(RedisCommand("DEL", arguments: ["x", "y"]).keys == ["x", "y"])
        #expect(RedisCommand("MSET", "a", "1", "b", "2").keys == ["a", "b"])
        #expect(RedisCommand("BLPOP", "l1", "l2", "5").keys == ["l1", "l2"])
        #expect(RedisCommand("RENAME", "from", "to").keys == ["from", "to"])
        let script = RedisScript(name: "s", source: "return 1")
        #expect(script.evalshaCommand(keys: ["k1", "k2"], arguments: ["a1", "k3"]).keys == ["k1", "k2"])
        #expect(script.evalshaCommand(keys: [], arguments: ["a1"]).keys == [])
        #expect(
            RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 16, "BLOCK", 5000, "STREAMS", "s1", "s2", ">", ">").keys == ["s1", "s2"])
        #expect(RedisCommand("XREAD", "COUNT", 1, "streams", "s1", "0").keys == ["s1"])
        #expect(RedisCommand("XGROUP", "CREATE", "stream", "group", "0", "MKSTREAM").keys == ["stream"])
        #expect(RedisCommand("XINFO", "GROUPS", "stream").keys == ["stream"])
        #expect(RedisCommand("XINFO", "HELP").keys == [])
        #expect(RedisCommand("ZUNIONSTORE", "dest", 2, "z1", "z2", "WEIGHTS", 1, 2).keys == ["dest", "z1", "z2"])
        // Unknown commands are routed by their first argument.
        #expect(RedisCommand("SOMENEWCOMMAND", "k", "v").keys == ["k"])
    }

    @Test func routesByTheSlotOfAllKeysAndRefusesKeysAcrossSlots() {
        let script = RedisScript(name: "s", source: "return 1")
        #expect(RedisCommand("PING").route() == .keyless)
        #expect(RedisCommand("GET", "{ev:1}:bets").route() == .slot(HashSlot.of("ev:1")))
        #expect(script.evalshaCommand(keys: ["{ev:1}:a", "{ev:1}:b"], arguments: ["x"]).route() == .slot(HashSlot.of("ev:1")))
        // Arguments that are not keys do not count.
        #expect(script.evalshaCommand(keys: ["{ev:1}:a"], arguments: ["{ev:2}"]).route() == .slot(HashSlot.of("ev:1")))
        #expect(script.evalshaCommand(keys: ["{ev:1}:a", "{ev:2}:a"], arguments: []).route() == .crossSlot)
        #expect(RedisCommand("MGET", "a", "b").route() == .crossSlot)
        #expect(HashSlot.of("a") != HashSlot.of("b"))
        let crossSlot = RedisError.crossSlot(command: "MGET", keys: RedisCommand("MGET", "a", "b").keys)
        #expect("\(crossSlot)".contains("a (slot \(HashSlot.of("a")))") && "\(crossSlot)".contains("b (slot \(HashSlot.of("b")))"))
        #expect(!crossSlot.mayHaveRun && !crossSlot.isConnectivity)
    }

    /// `route()` reads the keys in one pass of its own; it must find the keys `keys` lists, for every
    /// kind of key position, with the keys in one slot and across slots.
    @Test func routeFindsTheSameKeysAsTheKeysList() {
        let script = RedisScript(name: "s", source: "return 1")
        for tags in [("{t}", "{t}"), ("{t}", "{u}")] {
            let (a, b) = tags
            let commands = [
                RedisCommand("GET", "\(a)1"), RedisCommand("GET"), RedisCommand("PING"), RedisCommand("WAIT", 1, 100),
                RedisCommand("MGET", "\(a)1", "\(b)2", "\(a)3"), RedisCommand("MSET", "\(a)1", "\(b)v", "\(b)2", "v"),
                RedisCommand("BLPOP", "\(a)1", "\(b)2", "5"), RedisCommand("RENAME", "\(a)1", "\(b)2"),
                RedisCommand("XINFO", "GROUPS", "\(a)s"), RedisCommand("XINFO", "HELP"),
                RedisCommand("ZUNIONSTORE", "\(a)d", 2, "\(b)1", "\(a)2", "WEIGHTS", 1, 2),
                RedisCommand("ZUNIONSTORE", "\(a)d", "x", "\(b)1"),
                RedisCommand("ZUNION", 2, "\(a)1", "\(b)2"), RedisCommand("ZUNION", 5, "\(a)1", "\(b)2"), RedisCommand("ZUNION", 0),
                RedisCommand("XREADGROUP", "GROUP", "g", "c", "STREAMS", "\(a)1", "\(b)2", ">", ">"),
                RedisCommand("SOMENEWCOMMAND", "\(a)k", "\(b)v"),
                script.evalshaCommand(keys: ["\(a)1", "\(b)2"], arguments: ["\(b)3"]),
                script.evalshaCommand(keys: [], arguments: ["\(a)1"]),
            ]
            for command in commands {
                let slots = Set(command.keys.map { HashSlot.of($0) })
                let expected: CommandRoute = slots.isEmpty ? .keyless : slots.count == 1 ? .slot(slots.first!) : .crossSlot
                #expect(command.route() == expected, "\(command)")
            }
        }
    }

    @Test func commandNamesAreLookedUpWhateverTheirLength() {
        #expect(CommandKeys.of("SET").pattern == .range(first: 1, last: 1, step: 1) && !CommandKeys.of("SET").isReadOnly)
        #expect(CommandKeys.of("ZREMRANGEBYSCORE").pattern == .range(first: 1, last: 1, step: 1))
        #expect(CommandKeys.of("EVALSHA_RO").pattern == .counted(at: 2, destination: false) && CommandKeys.of("EVALSHA_RO").isReadOnly)
        #expect(CommandKeys.of("PING").pattern == .none && CommandKeys.of("XREAD").pattern == .streams)
        // Not in the table: routed by the first argument, as a write.
        for name in ["", "SE", "SETX", "AVERYLONGCOMMANDNAME", "get"] {
            #expect(CommandKeys.of(name).pattern == CommandKeys.unknown.pattern && !CommandKeys.of(name).isReadOnly, "\(name)")
        }
    }

    @Test func aPipelineIsCutIntoSegmentsThatKeepKeylessCommandsWithTheWriteBeforeThem() {
        let commands = [
            RedisCommand("CLIENT", "ID"), RedisCommand("SET", "{a}x", "1"), RedisCommand("WAIT", 1, 100),
            RedisCommand("GET", "{b}y"), RedisCommand("MGET", "a", "b"), RedisCommand("WAIT", 1, 100), RedisCommand("GET", "{a}z"),
        ]
        var results = [Result<RESPValue, RedisError>](repeating: .success(.null), count: commands.count)
        let segments = ClusterRouter.segments(of: commands, results: &results)
        #expect(segments.map(\.range) == [0..<3, 3..<4, 4..<6, 6..<7])
        #expect(segments.map(\.keyed) == [1, 3, 4, 6])
        #expect(segments.map(\.attempt.slot) == [HashSlot.of("a"), HashSlot.of("b"), nil, HashSlot.of("a")])
        #expect(segments.map(\.done) == [false, false, true, false])
        // The cross-slot MGET is refused, and the WAIT that belongs to it with it.
        for index in [4, 5] {
            guard case .failure(.crossSlot(let command, _)) = results[index] else {
                Issue.record("command \(index) must be refused: \(results[index])")
                continue
            }
            #expect(command == "MGET")
        }
        #expect(segments.map(\.readOnly) == [false, true, false, true])
    }

    @Test func readsRedirects() throws {
        let moved = try #require(RedisRedirect(RedisServerError(reply: "MOVED 3999 127.0.0.1:6381"), answeringHost: "h"))
        #expect(moved == RedisRedirect(kind: .moved, slot: 3999, endpoint: RedisEndpoint(host: "127.0.0.1", port: 6381)))
        let ask = try #require(RedisRedirect(RedisServerError(reply: "ASK 12 [::1]:7000"), answeringHost: "h"))
        #expect(ask == RedisRedirect(kind: .ask, slot: 12, endpoint: RedisEndpoint(host: "::1", port: 7000)))
        // A node that does not know its own address names none: the answering node's host it is.
        #expect(RedisRedirect(RedisServerError(reply: "MOVED 1 :7001"), answeringHost: "10.0.0.5")?.endpoint.host == "10.0.0.5")
        #expect(RedisRedirect(RedisServerError(reply: "MOVED nonsense"), answeringHost: "h") == nil)
        #expect(RedisRedirect(RedisServerError(reply: "ERR MOVED 1 a:1"), answeringHost: "h") == nil)

        let seen = Mutex<[RedisRedirect]>([])
        let handling = RedirectHandling(host: "h", observe: { redirect in seen.withLock { $0.append(redirect) } })
        #expect(handling.error(for: RedisServerError(reply: "MOVED 3999 127.0.0.1:6381")) == .redirected(moved))
        #expect(handling.error(for: RedisServerError(reply: "WRONGTYPE no")) == .server(RedisServerError(reply: "WRONGTYPE no")))
        #expect(seen.withLock { $0 } == [moved], "the map hears of a redirect before the caller does")
        #expect(RedisError.redirected(moved).isConnectivity && !RedisError.redirected(moved).mayHaveRun)
    }

    @Test func parsesSeedLists() throws {
        #expect(
            try RedisEndpoint.list(" 10.0.0.1:6379, redis-2:6380,[::1]:7000,10.0.0.1:6379 ") == [
                RedisEndpoint(host: "10.0.0.1", port: 6379), RedisEndpoint(host: "redis-2", port: 6380),
                RedisEndpoint(host: "::1", port: 7000),
            ])
        #expect(throws: RedisConfigurationError.self) { try RedisEndpoint.list("") }
        #expect(throws: RedisConfigurationError.self) { try RedisEndpoint.list("host") }
        #expect(throws: RedisConfigurationError.self) { try RedisEndpoint.list("host:0") }
        #expect(throws: RedisConfigurationError.self) { try RedisEndpoint.list(":6379") }
        #expect(RedisEndpoint(host: "::1", port: 7000).description == "[::1]:7000")
    }

    @Test func readsClusterShardsAndLeavesOutShardsWithoutSlots() throws {
        func text(_ value: String) -> RESPValue { .bulkString(ByteBuffer(string: value)) }
        func node(_ port: Int, _ role: String, endpoint: String = "127.0.0.1", health: String = "online") -> RESPValue {
            .array([
                text("id"), text("x"), text("port"), .integer(Int64(port)), text("ip"), text("127.0.0.1"), text("endpoint"), text(endpoint),
                text("role"), text(role), text("replication-offset"), .integer(1), text("health"), text(health),
            ])
        }
        func shard(_ bounds: [Int], _ nodes: [RESPValue]) -> RESPValue {
            .array([text("slots"), .array(bounds.map { .integer(Int64($0)) }), text("nodes"), .array(nodes)])
        }
        let reply = RESPValue.array([
            shard([0, 5460, 16000, 16383], [node(7001, "master"), node(7004, "replica")]),
            shard([5461, 15999], [node(7005, "replica"), node(7002, "master", endpoint: "?")]),
            // A failed master whose replica took over: no slots.
            shard([], [node(7003, "master", health: "fail")]),
        ])
        let shards = try ClusterShards(reply: reply, answeringHost: "127.0.0.1")
        #expect(shards.coveredSlots == 16384)
        #expect(shards.masters.map(\.port) == [7001, 7002])
        #expect(shards.shards[0].slots == [0...5460, 16000...16383])
        #expect(shards.shards[1].replicas.map(\.port) == [7005])
        #expect(shards.shards[1].master.host == "127.0.0.1", "an endpoint of ? falls back to the ip")
        #expect(throws: RedisError.self) { try ClusterShards(reply: shard([1], []), answeringHost: "h") }
    }
}
