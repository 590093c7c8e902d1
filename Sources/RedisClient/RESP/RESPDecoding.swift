import NIOCore

/// Typed views of a reply. Each throws `RedisError.unexpectedReply` naming the command when the reply
/// has another shape, so a wrong assumption about Redis shows up as a clear error, not a wrong value.
extension RESPValue {
    public func int(for command: String) throws(RedisError) -> Int {
        guard case .integer(let number) = self else { throw unexpected(command) }
        return Int(number)
    }

    public func string(for command: String) throws(RedisError) -> String {
        guard let text = string, !isNull else { throw unexpected(command) }
        return text
    }

    /// A string, or nil for a null reply.
    public func optionalString(for command: String) throws(RedisError) -> String? {
        if case .null = self { return nil }
        return try string(for: command)
    }

    public func array(for command: String) throws(RedisError) -> [RESPValue] {
        guard case .array(let values) = self else { throw unexpected(command) }
        return values
    }

    /// An array, or nil for a null reply (`*-1`, as `XREADGROUP ... BLOCK` sends on timeout).
    public func optionalArray(for command: String) throws(RedisError) -> [RESPValue]? {
        if case .null = self { return nil }
        return try array(for: command)
    }

    public func strings(for command: String) throws(RedisError) -> [String] {
        var result: [String] = []
        for value in try array(for: command) { result.append(try value.string(for: command)) }
        return result
    }

    public func optionalStrings(for command: String) throws(RedisError) -> [String?] {
        let values = try array(for: command)
        var result: [String?] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(try value.optionalString(for: command)) }
        return result
    }

    /// A flat `[field, value, field, value, ...]` array as a dictionary (`HGETALL`, stream entries).
    public func stringMap(for command: String) throws(RedisError) -> [String: String] {
        let values = try array(for: command)
        guard values.count % 2 == 0 else { throw unexpected(command) }
        var map: [String: String] = [:]
        map.reserveCapacity(values.count / 2)
        var index = 0
        while index < values.count {
            map[try values[index].string(for: command)] = try values[index + 1].string(for: command)
            index += 2
        }
        return map
    }

    public func unexpected(_ command: String) -> RedisError {
        let text = description
        return .unexpectedReply(command: command, reply: text.count > 200 ? String(text.prefix(200)) + "..." : text)
    }

    /// Allows `RedisCommand` values where a command name is expected.
    public func array(for command: RedisCommand) throws(RedisError) -> [RESPValue] { try array(for: command.name) }
}
