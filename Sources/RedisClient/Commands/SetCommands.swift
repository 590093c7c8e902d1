/// Sets.
extension RedisCommandSender {
    @discardableResult
    public func sadd(_ key: String, _ members: [String]) async throws -> Int {
        try await send(RedisCommand("SADD", arguments: [key] + members)).int(for: "SADD")
    }

    @discardableResult
    public func srem(_ key: String, _ members: [String]) async throws -> Int {
        try await send(RedisCommand("SREM", arguments: [key] + members)).int(for: "SREM")
    }

    public func sismember(_ key: String, _ member: String) async throws -> Bool {
        try await send(RedisCommand("SISMEMBER", key, member)).int(for: "SISMEMBER") == 1
    }

    public func smembers(_ key: String) async throws -> Set<String> {
        Set(try await send(RedisCommand("SMEMBERS", key)).strings(for: "SMEMBERS"))
    }

    public func scard(_ key: String) async throws -> Int {
        try await send(RedisCommand("SCARD", key)).int(for: "SCARD")
    }
}
