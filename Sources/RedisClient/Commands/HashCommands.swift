/// Hashes.
extension RedisCommandSender {
    @discardableResult
    public func hset(_ key: String, _ fields: KeyValuePairs<String, String>) async throws -> Int {
        var command = RedisCommand("HSET", key)
        for (field, value) in fields { command.append(field); command.append(value) }
        return try await send(command).int(for: "HSET")
    }

    public func hget(_ key: String, _ field: String) async throws -> String? {
        try await send(RedisCommand("HGET", key, field)).optionalString(for: "HGET")
    }

    public func hmget(_ key: String, _ fields: [String]) async throws -> [String?] {
        var command = RedisCommand("HMGET", key)
        command.append(contentsOf: fields)
        return try await send(command).optionalStrings(for: "HMGET")
    }

    /// `HGETALL` as a dictionary; empty when the key does not exist.
    public func hgetall(_ key: String) async throws -> [String: String] {
        try await send(RedisCommand("HGETALL", key)).stringMap(for: "HGETALL")
    }

    @discardableResult
    public func hincrby(_ key: String, _ field: String, by amount: Int) async throws -> Int {
        try await send(RedisCommand("HINCRBY", key, field, amount)).int(for: "HINCRBY")
    }

    @discardableResult
    public func hdel(_ key: String, _ fields: [String]) async throws -> Int {
        try await send(RedisCommand("HDEL", arguments: [key] + fields)).int(for: "HDEL")
    }
}
