import NIOCore

/// Which arguments of a command are keys, from a table in the client rather than the server's
/// `COMMAND INFO`: routing then needs no round trip before the first command, costs one table
/// lookup, does not change with the server's version, and is tested without a server. Redis 7's key
/// specifications would say the same for the commands below; a command missing here is routed by its
/// first argument (as go-redis does), and a node that does not own that slot answers `MOVED`, so a
/// wrong guess costs a redirect, not a wrong answer. docs/decisions/0002-redis-cluster-client.md.
struct CommandKeys: Sendable {
    enum Pattern: Sendable, Equatable {
        /// No keys: the command goes to any master, or in a pipeline with the command before it.
        case none
        /// Arguments `first` through `last` (negative counts from the end: -1 is the last), every
        /// `step`: Redis's own legacy key positions. `GET` is (1, 1, 1), `MSET` (1, -1, 2).
        case range(first: Int, last: Int, step: Int)
        /// The number of keys at argument `at`, the keys right after it; with `destination`, argument 1
        /// is a key too (`ZUNIONSTORE dest numkeys key...`). `EVAL script numkeys key... arg...`.
        case counted(at: Int, destination: Bool)
        /// `XREAD`/`XREADGROUP ... STREAMS key... id...`: the first half of what follows `STREAMS`.
        case streams
    }

    let pattern: Pattern
    /// Changes nothing, so it is retried even when its connection dropped with it in flight.
    let isReadOnly: Bool

    static func of(_ name: String) -> CommandKeys {
        table.lookup(name) ?? unknown
    }

    static let unknown = CommandKeys(pattern: .range(first: 1, last: 1, step: 1), isReadOnly: false)

    private static let table: NameTable = {
        var table = NameTable()
        func add(_ names: String, _ pattern: Pattern, readOnly: Bool) {
            for name in names.split(separator: " ") { table.insert(String(name), CommandKeys(pattern: pattern, isReadOnly: readOnly)) }
        }
        let first = Pattern.range(first: 1, last: 1, step: 1)
        let all = Pattern.range(first: 1, last: -1, step: 1)
        let firstTwo = Pattern.range(first: 1, last: 2, step: 1)
        add(
            "PING ECHO INFO TIME DBSIZE SCAN RANDOMKEY KEYS ROLE LASTSAVE COMMAND SLOWLOG LATENCY",
            .none, readOnly: true)
        add(
            "SCRIPT FUNCTION WAIT CLUSTER CLIENT CONFIG FLUSHALL FLUSHDB ASKING READONLY READWRITE SELECT AUTH HELLO "
                + "MULTI EXEC DISCARD UNWATCH RESET QUIT SAVE BGSAVE BGREWRITEAOF DEBUG SWAPDB PUBLISH SPUBLISH",
            .none, readOnly: false)
        // One key, reading.
        add(
            "GET GETRANGE STRLEN TYPE TTL PTTL EXPIRETIME PEXPIRETIME DUMP "
                + "HGET HMGET HGETALL HEXISTS HLEN HKEYS HVALS HSTRLEN HRANDFIELD HSCAN "
                + "LRANGE LLEN LINDEX LPOS SMEMBERS SISMEMBER SMISMEMBER SCARD SRANDMEMBER SSCAN "
                + "ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX "
                + "ZREVRANGEBYLEX ZREVRANGE ZRANDMEMBER ZSCAN XLEN XRANGE XREVRANGE XPENDING BITCOUNT BITPOS GETBIT PFCOUNT",
            first, readOnly: true)
        // One key, writing.
        add(
            "SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND SETRANGE INCR INCRBY INCRBYFLOAT DECR DECRBY "
                + "EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST RESTORE "
                + "HSET HSETNX HMSET HDEL HINCRBY HINCRBYFLOAT LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LSET LREM LTRIM LINSERT "
                + "SADD SREM SPOP ZADD ZREM ZINCRBY ZPOPMIN ZPOPMAX ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX "
                + "XADD XACK XDEL XTRIM XCLAIM XAUTOCLAIM XSETID SETBIT BITFIELD PFADD",
            first, readOnly: false)
        add("MGET EXISTS TOUCH SINTER SUNION SDIFF PFMERGE", all, readOnly: true)
        add("DEL UNLINK WATCH SINTERSTORE SUNIONSTORE SDIFFSTORE", all, readOnly: false)
        add("MSET MSETNX", .range(first: 1, last: -1, step: 2), readOnly: false)
        add("RENAME RENAMENX RPOPLPUSH LMOVE SMOVE COPY ZRANGESTORE", firstTwo, readOnly: false)
        add("BLPOP BRPOP BZPOPMIN BZPOPMAX", .range(first: 1, last: -2, step: 1), readOnly: false)
        add("BRPOPLPUSH BLMOVE", firstTwo, readOnly: false)
        // The key after a subcommand: XGROUP CREATE key ..., XINFO GROUPS key, OBJECT ENCODING key.
        add("XINFO OBJECT", .range(first: 2, last: 2, step: 1), readOnly: true)
        add("XGROUP MEMORY", .range(first: 2, last: 2, step: 1), readOnly: false)
        add("EVAL EVALSHA FCALL", .counted(at: 2, destination: false), readOnly: false)
        add("EVAL_RO EVALSHA_RO FCALL_RO", .counted(at: 2, destination: false), readOnly: true)
        add("ZUNION ZINTER ZDIFF SINTERCARD ZINTERCARD", .counted(at: 1, destination: false), readOnly: true)
        add("LMPOP ZMPOP", .counted(at: 1, destination: false), readOnly: false)
        add("BLMPOP BZMPOP", .counted(at: 2, destination: false), readOnly: false)
        add("ZUNIONSTORE ZINTERSTORE ZDIFFSTORE", .counted(at: 2, destination: true), readOnly: false)
        add("XREAD", .streams, readOnly: true)
        add("XREADGROUP", .streams, readOnly: false)
        return table
    }()
}

/// The table of `CommandKeys`, by name: open addressing on the name's bytes packed into two words (every
/// name in it has at most 16). A lookup is one copy of the name and a comparison or two; a
/// `[String: CommandKeys]` hashed the name with SipHash, a quarter of a command's routing.
private struct NameTable {
    private static let size = 512
    private var names = [Name](repeating: .empty, count: size)
    private var entries = [CommandKeys](repeating: CommandKeys.unknown, count: size)

    private struct Name: Equatable {
        var low: UInt64
        var high: UInt64
        static let empty = Name(low: 0, high: 0)

        /// Nil for a name longer than 16 bytes (none is in the table).
        init?(_ name: String) {
            var name = name
            guard
                let packed = name.withUTF8({ bytes -> Name? in
                    guard bytes.count <= 16 else { return nil }
                    var packed = Name.empty
                    withUnsafeMutableBytes(of: &packed) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
                    return packed
                })
            else { return nil }
            self = packed
        }

        private init(low: UInt64, high: UInt64) {
            self.low = low
            self.high = high
        }

        var bucket: Int { Int(truncatingIfNeeded: (low &* 0x9E37_79B9_7F4A_7C15 ^ high &* 0xC2B2_AE3D_27D4_EB4F) >> 55) }
    }

    mutating func insert(_ name: String, _ keys: CommandKeys) {
        guard let packed = Name(name) else { preconditionFailure("command name over 16 bytes: \(name)") }
        var bucket = packed.bucket
        while names[bucket] != .empty && names[bucket] != packed { bucket = (bucket + 1) % Self.size }
        names[bucket] = packed
        entries[bucket] = keys
    }

    func lookup(_ name: String) -> CommandKeys? {
        guard let packed = Name(name) else { return nil }
        var bucket = packed.bucket
        while names[bucket] != .empty {
            if names[bucket] == packed { return entries[bucket] }
            bucket = (bucket + 1) % Self.size
        }
        return nil
    }
}

/// Where a command goes in cluster mode.
enum CommandRoute: Sendable, Equatable {
    /// No keys: any master, or in a pipeline the node of the command before it.
    case keyless
    /// Every key hashes to this slot.
    case slot(Int)
    /// The keys span slots: no node can run it.
    case crossSlot
}

/// The slots of a command's keys, taken one key at a time.
private struct SlotsOfKeys {
    private var slot = -1
    private var spansSlots = false

    mutating func add(_ keySlot: Int) {
        if slot < 0 {
            slot = keySlot
        } else if slot != keySlot {
            spansSlots = true
        }
    }

    var route: CommandRoute {
        if spansSlots { return .crossSlot }
        return slot < 0 ? .keyless : .slot(slot)
    }
}

extension RedisCommand {
    /// The slot of the command's keys, read from its argument bytes without copying them.
    func route() -> CommandRoute {
        route(CommandKeys.of(name).pattern)
    }

    /// The slot of the command's keys, found by `pattern` (the command's own). One pass over the
    /// arguments, stopping after the last key; `XREAD`'s keys, which need the `STREAMS` keyword found
    /// first, go by `forEachKey`.
    func route(_ pattern: CommandKeys.Pattern) -> CommandRoute {
        Self.route(pattern, arguments: storage, count: argumentCount)
    }

    /// `route(_:)` of a command's `storage` and `argumentCount`: a batch routes its commands through
    /// this, as a method call copied each command.
    static func route(_ pattern: CommandKeys.Pattern, arguments storage: ByteBuffer, count: Int) -> CommandRoute {
        // The keys are arguments `first` through `last`, every `step`, and `destination` (or -1).
        var first = 0
        var last = -1
        var step = 1
        var destination = -1
        // The argument that says how many keys follow it (or -1).
        var numberOfKeys = -1
        switch pattern {
        case .none:
            return .keyless
        case .streams:
            var slots = SlotsOfKeys()
            forEachKey(pattern, arguments: storage, count: count) { slots.add(HashSlot.of($0)) }
            return slots.route
        case .range(let firstKey, let lastKey, let every):
            first = firstKey
            last = lastKey < 0 ? count + lastKey : min(lastKey, count - 1)
            step = every
        case .counted(let at, let hasDestination):
            if hasDestination && count > 1 { destination = 1 }
            numberOfKeys = at
        }
        return storage.withUnsafeReadableBytes { bytes in
            var slots = SlotsOfKeys()
            var offset = 0
            var next = first
            var index = 0
            // Each argument is a 32-bit length and its bytes.
            while index < count && (index <= last || index <= numberOfKeys || index <= destination) {
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                let argument = UnsafeRawBufferPointer(start: bytes.baseAddress! + offset + 4, count: length)
                offset += 4 + length
                if index == numberOfKeys {
                    guard let keys = integer(argument) else { break }
                    (first, next, last, step) = (index + 1, index + 1, min(index + keys, count - 1), 1)
                } else if index == destination {
                    slots.add(HashSlot.of(argument))
                } else if index == next && index >= first && index <= last {
                    slots.add(HashSlot.of(argument))
                    next += step
                }
                index += 1
            }
            return slots.route
        }
    }

    /// The command's keys as text, for error messages and tests.
    var keys: [String] {
        var keys: [String] = []
        Self.forEachKey(CommandKeys.of(name).pattern, arguments: storage, count: argumentCount) {
            keys.append(String(decoding: $0, as: UTF8.self))
        }
        return keys
    }

    /// Calls `body` with the bytes of each key argument, in order.
    private static func forEachKey(
        _ pattern: CommandKeys.Pattern, arguments storage: ByteBuffer, count: Int, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        storage.withUnsafeReadableBytes { bytes in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { offsets in
                // Each argument is a 32-bit length and its bytes; note where each one starts.
                var offset = 0
                for index in 0..<count {
                    offsets[index] = offset
                    offset += 4 + Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                }
                func argument(_ index: Int) -> UnsafeRawBufferPointer {
                    let start = offsets[index]
                    let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
                    return UnsafeRawBufferPointer(rebasing: bytes[(start + 4)..<(start + 4 + length)])
                }
                forEachKeyIndex(pattern, count: count, argument: argument) { body(argument($0)) }
            }
        }
    }

    /// Calls `body` with the index of each key argument, for `count` arguments (the name is 0).
    private static func forEachKeyIndex(
        _ pattern: CommandKeys.Pattern, count: Int, argument: (Int) -> UnsafeRawBufferPointer, body: (Int) -> Void
    ) {
        switch pattern {
        case .none:
            return
        case .range(let first, let last, let step):
            let end = last < 0 ? count + last : min(last, count - 1)
            guard first <= end else { return }
            for index in stride(from: first, through: end, by: step) { body(index) }
        case .counted(let at, let destination):
            if destination && count > 1 { body(1) }
            guard at < count, let keys = integer(argument(at)) else { return }
            let end = min(at + keys, count - 1)
            guard at + 1 <= end else { return }
            for index in (at + 1)...end { body(index) }
        case .streams:
            var streams = -1
            for index in 1..<max(1, count) where isStreamsKeyword(argument(index)) {
                streams = index
                break
            }
            guard streams > 0 else { return }
            let keys = (count - streams - 1) / 2
            guard keys > 0 else { return }
            for index in (streams + 1)...(streams + keys) { body(index) }
        }
    }

    private static func integer(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count < 10 else { return nil }
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func isStreamsKeyword(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 7 else { return false }
        // ASCII letters upper-cased by clearing bit 5.
        return zip(bytes, "STREAMS".utf8).allSatisfy { $0 & 0xDF == $1 }
    }
}
