/// Lists.
extension RedisCommandSender {
    @discardableResult
    public func rpush(_ key: String, _ values: [String]) async throws -> Int {
        try await send(RedisCommand("RPUSH", arguments: [key] + values)).int(for: "RPUSH")
    }

    public func lrange(_ key: String, _ start: Int, _ stop: Int) async throws -> [String] {
        try await send(RedisCommand("LRANGE", key, start, stop)).strings(for: "LRANGE")
    }

    public func llen(_ key: String) async throws -> Int {
        try await send(RedisCommand("LLEN", key)).int(for: "LLEN")
    }
}
