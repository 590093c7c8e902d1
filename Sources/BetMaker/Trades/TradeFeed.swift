import RedisClient

/// The live feed's entry for trades an opening, a close or a void changed (`type` `trades`, the
/// symbol, the tick and its price when there is one, the owners' ids), appended by the caller right
/// after the script succeeded: the feed (`RedisKeys.feed`) is not in the symbol's slot, so no trade
/// script writes it. A crash between the two loses one live update; browsers read the truth on their
/// next load.
enum TradeFeed {
    /// Appends the entry; nothing when no owner's trade changed.
    static func append(redis: RedisClient, keys: RedisKeys, symbol: String, tick: Tick? = nil, users: String) async throws {
        guard !users.isEmpty else { return }
        var fields = ["type", "trades", "symbol", symbol]
        if let tick { fields += ["tick", tick.id, "price", String(tick.price.units)] }
        fields += ["users", users]
        _ = try await redis.send(
            RedisCommand("XADD", arguments: [keys.feed, "MAXLEN", "~", String(RedisKeys.feedLength), "*"] + fields))
    }
}
