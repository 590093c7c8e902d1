/// Streams and consumer groups.
extension RedisCommandSender {
    /// `XADD key [MAXLEN ~ n] * field value ...`: appends an entry and returns its id.
    @discardableResult
    public func xadd(_ key: String, fields: KeyValuePairs<String, String>, approximateMaxLength: Int? = nil) async throws -> String {
        var command = RedisCommand("XADD", key)
        if let approximateMaxLength { command.append("MAXLEN"); command.append("~"); command.append(approximateMaxLength) }
        command.append("*")
        for (field, value) in fields { command.append(field); command.append(value) }
        return try await send(command).string(for: "XADD")
    }

    public func xlen(_ key: String) async throws -> Int {
        try await send(RedisCommand("XLEN", key)).int(for: "XLEN")
    }

    /// `XGROUP CREATE key group start MKSTREAM`. Returns false when the group exists already (`BUSYGROUP`).
    @discardableResult
    public func xgroupCreate(_ key: String, group: String, startingAt start: String = "0", makeStream: Bool = true) async throws -> Bool {
        var command = RedisCommand("XGROUP", "CREATE", key, group, start)
        if makeStream { command.append("MKSTREAM") }
        do {
            _ = try await send(command)
            return true
        } catch let error as RedisError where error.serverCode == "BUSYGROUP" {
            return false
        }
    }

    /// `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] STREAMS key id` for one stream. With `block`, the
    /// command is marked blocking and its deadline is the block time plus the usual command timeout,
    /// so send it on a dedicated connection. Returns an empty array when the block time passed.
    /// With an id other than `>`, entries deleted since delivery come back with `fields == nil`.
    public func xreadgroup(
        _ key: String, group: String, consumer: String, id: String = ">", count: Int? = nil, block: Duration? = nil
    ) async throws -> [StreamEntry] {
        var command = RedisCommand("XREADGROUP", "GROUP", group, consumer)
        command.appendReadOptions(key, after: id, count: count, block: block)
        return try Self.entries(of: try await send(command), command: "XREADGROUP")
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key id` for one stream: the entries after `id` (`$`: only
    /// those added from now on). With `block`, as `xreadgroup`: send it on a dedicated connection.
    /// Returns an empty array when the block time passed.
    public func xread(_ key: String, after id: String, count: Int? = nil, block: Duration? = nil) async throws -> [StreamEntry] {
        var command = RedisCommand("XREAD")
        command.appendReadOptions(key, after: id, count: count, block: block)
        return try Self.entries(of: try await send(command), command: "XREAD")
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key... id...`: several streams in one call, each after its
    /// own id (`COUNT` is per stream). Returns each stream that had entries, with its key.
    public func xread(
        _ streams: [(key: String, after: String)], count: Int? = nil, block: Duration? = nil
    ) async throws -> [(key: String, entries: [StreamEntry])] {
        var command = RedisCommand("XREAD")
        command.appendReadOptions(streams, count: count, block: block)
        return try Self.streams(of: try await send(command), command: "XREAD")
    }

    /// The entries of an XREAD or XREADGROUP reply (nil: none arrived in time).
    private static func entries(of reply: RESPValue, command name: String) throws -> [StreamEntry] {
        try streams(of: reply, command: name).flatMap(\.entries)
    }

    /// The streams of an XREAD or XREADGROUP reply, each with its key.
    private static func streams(of reply: RESPValue, command name: String) throws -> [(key: String, entries: [StreamEntry])] {
        guard let streams = try reply.optionalArray(for: name) else { return [] }
        return try streams.map { stream in
            let pair = try stream.array(for: name)
            guard pair.count == 2 else { throw stream.unexpected(name) }
            return (try pair[0].string(for: name), try pair[1].array(for: name).map { try StreamEntry($0, command: name) })
        }
    }

    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws -> Int {
        var command = RedisCommand("XACK", key, group)
        command.append(contentsOf: ids)
        return try await send(command).int(for: "XACK")
    }

    /// `XAUTOCLAIM`: takes over entries idle longer than `minIdle` from other consumers. Follow
    /// `nextCursor` until it is `0-0`. `deletedIDs` are pending entries whose data was trimmed away.
    public func xautoclaim(
        _ key: String, group: String, consumer: String, minIdle: Duration, start: String = "0-0", count: Int = 100
    ) async throws -> (nextCursor: String, entries: [StreamEntry], deletedIDs: [String]) {
        let command = RedisCommand("XAUTOCLAIM", key, group, consumer, Int(minIdle.inMilliseconds), start, "COUNT", count)
        let reply = try await send(command).array(for: "XAUTOCLAIM")
        guard reply.count >= 2 else { throw RedisError.unexpectedReply(command: "XAUTOCLAIM", reply: "\(reply)") }
        let cursor = try reply[0].string(for: "XAUTOCLAIM")
        var entries: [StreamEntry] = []
        for entry in try reply[1].array(for: "XAUTOCLAIM") { entries.append(try StreamEntry(entry, command: "XAUTOCLAIM")) }
        let deleted = reply.count > 2 ? try reply[2].strings(for: "XAUTOCLAIM") : []
        return (cursor, entries, deleted)
    }

    /// `XCLAIM key group consumer 0 id... JUSTID`: resets the idle time of entries this consumer
    /// is still working on, so nobody else claims them.
    public func xclaimTouch(_ key: String, group: String, consumer: String, ids: [String]) async throws {
        var command = RedisCommand("XCLAIM", key, group, consumer, 0)
        command.append(contentsOf: ids)
        command.append("JUSTID")
        _ = try await send(command)
    }

    /// `XPENDING key group`: how many entries are pending, the lowest and highest id, per consumer counts.
    public func xpendingSummary(_ key: String, group: String) async throws -> PendingSummary {
        let reply = try await send(RedisCommand("XPENDING", key, group)).array(for: "XPENDING")
        guard reply.count == 4 else { throw RedisError.unexpectedReply(command: "XPENDING", reply: "\(reply)") }
        var consumers: [String: Int] = [:]
        for pair in try reply[3].optionalArray(for: "XPENDING") ?? [] {
            let values = try pair.strings(for: "XPENDING")
            if values.count == 2 { consumers[values[0]] = Int(values[1]) }
        }
        return PendingSummary(
            count: try reply[0].int(for: "XPENDING"),
            lowestID: try reply[1].optionalString(for: "XPENDING"),
            highestID: try reply[2].optionalString(for: "XPENDING"),
            consumers: consumers)
    }

    /// `XPENDING key group [IDLE ms] start end count [consumer]`: pending entries with their delivery counts.
    public func xpending(
        _ key: String, group: String, start: String = "-", end: String = "+", count: Int, consumer: String? = nil, minIdle: Duration? = nil
    ) async throws -> [PendingEntry] {
        var command = RedisCommand("XPENDING", key, group)
        if let minIdle { command.append("IDLE"); command.append(Int(minIdle.inMilliseconds)) }
        command.append(start)
        command.append(end)
        command.append(count)
        if let consumer { command.append(consumer) }
        var entries: [PendingEntry] = []
        for value in try await send(command).array(for: "XPENDING") {
            let fields = try value.array(for: "XPENDING")
            guard fields.count == 4 else { throw value.unexpected("XPENDING") }
            entries.append(
                PendingEntry(
                    id: try fields[0].string(for: "XPENDING"), consumer: try fields[1].string(for: "XPENDING"),
                    idleMilliseconds: try fields[2].int(for: "XPENDING"), deliveries: try fields[3].int(for: "XPENDING")))
        }
        return entries
    }

    /// `XTRIM key MINID ~ id`: drops entries older than `id`.
    @discardableResult
    public func xtrim(_ key: String, minID: String, approximate: Bool = true) async throws -> Int {
        var command = RedisCommand("XTRIM", key, "MINID")
        if approximate { command.append("~") }
        command.append(minID)
        return try await send(command).int(for: "XTRIM")
    }

    /// `XINFO GROUPS key`: each consumer group's name, last delivered id and pending count.
    public func xinfoGroups(_ key: String) async throws -> [StreamGroupInfo] {
        var groups: [StreamGroupInfo] = []
        for value in try await send(RedisCommand("XINFO", "GROUPS", key)).array(for: "XINFO") {
            var fields: [String: RESPValue] = [:]
            let pairs = try value.array(for: "XINFO")
            var index = 0
            while index + 1 < pairs.count {
                fields[try pairs[index].string(for: "XINFO")] = pairs[index + 1]
                index += 2
            }
            guard let name = fields["name"]?.string, let lastDelivered = fields["last-delivered-id"]?.string else {
                throw value.unexpected("XINFO")
            }
            groups.append(
                StreamGroupInfo(
                    name: name, lastDeliveredID: lastDelivered, pending: try fields["pending"]?.int(for: "XINFO") ?? 0,
                    consumers: try fields["consumers"]?.int(for: "XINFO") ?? 0))
        }
        return groups
    }

    /// `XRANGE key start end [COUNT n]`.
    public func xrange(_ key: String, start: String = "-", end: String = "+", count: Int? = nil) async throws -> [StreamEntry] {
        var command = RedisCommand("XRANGE", key, start, end)
        if let count { command.append("COUNT"); command.append(count) }
        var entries: [StreamEntry] = []
        for entry in try await send(command).array(for: "XRANGE") { entries.append(try StreamEntry(entry, command: "XRANGE")) }
        return entries
    }

    /// `XREVRANGE key end start [COUNT n]`: entries newest first. `end` may be exclusive (`(id`).
    public func xrevrange(_ key: String, end: String = "+", start: String = "-", count: Int? = nil) async throws -> [StreamEntry] {
        var command = RedisCommand("XREVRANGE", key, end, start)
        if let count { command.append("COUNT"); command.append(count) }
        var entries: [StreamEntry] = []
        for entry in try await send(command).array(for: "XREVRANGE") { entries.append(try StreamEntry(entry, command: "XREVRANGE")) }
        return entries
    }
}

/// One entry of a stream. `fields` is nil for an entry still pending whose data was deleted.
public struct StreamEntry: Sendable, Hashable {
    public let id: String
    public let fields: [String: String]?

    public init(id: String, fields: [String: String]?) {
        self.id = id
        self.fields = fields
    }

    init(_ value: RESPValue, command: String) throws(RedisError) {
        let pair = try value.array(for: command)
        guard pair.count == 2 else { throw value.unexpected(command) }
        self.id = try pair[0].string(for: command)
        self.fields = pair[1].isNull ? nil : try pair[1].stringMap(for: command)
    }
}

public struct StreamGroupInfo: Sendable, Hashable {
    public let name: String
    public let lastDeliveredID: String
    public let pending: Int
    public let consumers: Int
}

public struct PendingSummary: Sendable, Hashable {
    public let count: Int
    public let lowestID: String?
    public let highestID: String?
    public let consumers: [String: Int]
}

public struct PendingEntry: Sendable, Hashable {
    public let id: String
    public let consumer: String
    public let idleMilliseconds: Int
    public let deliveries: Int
}

extension RedisCommand {
    /// `[COUNT n] [BLOCK ms] STREAMS key id`, the tail XREAD and XREADGROUP share. A blocking read's
    /// deadline is its block time plus the usual command timeout.
    fileprivate mutating func appendReadOptions(_ key: String, after id: String, count: Int?, block: Duration?) {
        appendReadOptions([(key, id)], count: count, block: block)
    }

    fileprivate mutating func appendReadOptions(_ streams: [(key: String, after: String)], count: Int?, block: Duration?) {
        if let count {
            append("COUNT")
            append(count)
        }
        if let block {
            append("BLOCK")
            append(Int(block.inMilliseconds))
            isBlocking = true
            timeout = block + .seconds(5)
        }
        append("STREAMS")
        for stream in streams { append(stream.key) }
        for stream in streams { append(stream.after) }
    }
}
