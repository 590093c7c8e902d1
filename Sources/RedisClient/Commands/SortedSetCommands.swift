/// Sorted sets.
extension RedisCommandSender {
    @discardableResult
    public func zadd(_ key: String, _ members: [(score: Double, member: String)]) async throws -> Int {
        var command = RedisCommand("ZADD", key)
        for (score, member) in members { command.append(ScoreBound.format(score)); command.append(member) }
        return try await send(command).int(for: "ZADD")
    }

    @discardableResult
    public func zrem(_ key: String, _ members: [String]) async throws -> Int {
        try await send(RedisCommand("ZREM", arguments: [key] + members)).int(for: "ZREM")
    }

    public func zcard(_ key: String) async throws -> Int {
        try await send(RedisCommand("ZCARD", key)).int(for: "ZCARD")
    }

    public func zscore(_ key: String, _ member: String) async throws -> Double? {
        try await send(RedisCommand("ZSCORE", key, member)).optionalString(for: "ZSCORE").flatMap(Double.init)
    }

    /// Members with scores between `min` and `max`, lowest first, or highest first when `reverse`.
    public func zrangeByScore(
        _ key: String, min: ScoreBound, max: ScoreBound, reverse: Bool = false, limit: (offset: Int, count: Int)? = nil
    ) async throws -> [(member: String, score: Double)] {
        // ZRANGE ... REV takes its bounds in the order of the walk: highest first.
        var command = RedisCommand("ZRANGE", key, reverse ? max.argument : min.argument, reverse ? min.argument : max.argument, "BYSCORE")
        if reverse { command.append("REV") }
        if let limit { command.append("LIMIT"); command.append(limit.offset); command.append(limit.count) }
        command.append("WITHSCORES")
        let values = try await send(command).strings(for: "ZRANGE")
        var result: [(member: String, score: Double)] = []
        result.reserveCapacity(values.count / 2)
        var index = 0
        while index + 1 < values.count {
            guard let score = Double(values[index + 1]) else {
                throw RedisError.unexpectedReply(command: "ZRANGE", reply: values[index + 1])
            }
            result.append((values[index], score))
            index += 2
        }
        return result
    }

    /// Members between `min` and `max` in byte order, for sets whose members all share one score.
    public func zrangeByLex(
        _ key: String, min: LexBound, max: LexBound, reverse: Bool = false, limit: (offset: Int, count: Int)? = nil
    ) async throws -> [String] {
        try await send(.zrangeByLex(key, min: min, max: max, reverse: reverse, limit: limit)).strings(for: "ZRANGE")
    }
}

/// A score bound for sorted-set ranges.
public enum ScoreBound: Sendable {
    case inclusive(Double)
    case exclusive(Double)
    case negativeInfinity
    case positiveInfinity

    var argument: String {
        switch self {
        case .inclusive(let score): Self.format(score)
        case .exclusive(let score): "(" + Self.format(score)
        case .negativeInfinity: "-inf"
        case .positiveInfinity: "+inf"
        }
    }

    static func format(_ score: Double) -> String {
        if score == score.rounded(), abs(score) < 1e15 { return String(Int64(score)) }
        return "\(score)"
    }
}

/// A member bound for lexicographic sorted-set ranges.
public enum LexBound: Sendable {
    case inclusive(String)
    case exclusive(String)
    case minimum
    case maximum

    var argument: String {
        switch self {
        case .inclusive(let member): "[" + member
        case .exclusive(let member): "(" + member
        case .minimum: "-"
        case .maximum: "+"
        }
    }
}

extension RedisCommand {
    /// `ZRANGE key min max BYLEX [REV] [LIMIT offset count]`, for pipelines.
    public static func zrangeByLex(
        _ key: String, min: LexBound, max: LexBound, reverse: Bool = false, limit: (offset: Int, count: Int)? = nil
    ) -> RedisCommand {
        var command = RedisCommand("ZRANGE", key, reverse ? max.argument : min.argument, reverse ? min.argument : max.argument, "BYLEX")
        if reverse { command.append("REV") }
        if let limit {
            command.append("LIMIT")
            command.append(limit.offset)
            command.append(limit.count)
        }
        return command
    }
}
