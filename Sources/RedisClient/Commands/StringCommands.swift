/// Strings and keys.
extension RedisCommandSender {
    public func get(_ key: String) async throws -> String? {
        try await send(RedisCommand("GET", key)).optionalString(for: "GET")
    }

    /// `SET` with an optional expiry and condition; false when the condition kept the value from being set.
    @discardableResult
    public func set(_ key: String, to value: String, expiry: Duration? = nil, condition: RedisSetCondition = .always) async throws -> Bool {
        var command = RedisCommand("SET", key, value)
        if let expiry { command.append("PX"); command.append(Int(expiry.inMilliseconds)) }
        switch condition {
        case .always: break
        case .ifNotExists: command.append("NX")
        case .ifExists: command.append("XX")
        }
        return try await !send(command).isNull
    }

    @discardableResult
    public func del(_ keys: [String]) async throws -> Int {
        try await send(RedisCommand("DEL", arguments: keys)).int(for: "DEL")
    }

    public func exists(_ keys: [String]) async throws -> Int {
        try await send(RedisCommand("EXISTS", arguments: keys)).int(for: "EXISTS")
    }

    @discardableResult
    public func incr(_ key: String, by amount: Int = 1) async throws -> Int {
        try await send(RedisCommand("INCRBY", key, amount)).int(for: "INCRBY")
    }

    @discardableResult
    public func expire(_ key: String, after duration: Duration) async throws -> Bool {
        try await send(RedisCommand("PEXPIRE", key, Int(duration.inMilliseconds))).int(for: "PEXPIRE") == 1
    }
}

/// When `SET` writes: always, only if the key is new (`NX`), or only if it exists (`XX`).
public enum RedisSetCondition: Sendable { case always, ifNotExists, ifExists }
