import BetMaker
import RedisClient

/// For tests that read or damage a bet by hand: a bet is one string of fields (`RedisKeys.bet`).
extension RedisCommandSender {
    /// The fields of the bet stored at `key`, by their names in `BetStore.storedFields` (the status as
    /// its one letter); empty when there is no bet or it cannot be unpacked.
    public func storedBet(_ key: String) async throws -> [String: String] {
        guard let text = try await get(key), let fields = BetStore.unpack(text) else { return [:] }
        var bet: [String: String] = [:]
        for (name, value) in zip(BetStore.storedFields, fields) where value != nil { bet[name] = value }
        return bet
    }

    /// Sets some fields of the bet at `key` (nil clears one) and stores it again: damage written by
    /// hand, the way the tests used to `HSET` and `HDEL` a bet hash's fields.
    public func changeStoredBet(_ key: String, _ changes: [String: String?]) async throws {
        guard let text = try await get(key), var fields = BetStore.unpack(text) else {
            throw TestSupportError("\(key) is not a stored bet")
        }
        for (name, value) in changes {
            guard let index = BetStore.storedFields.firstIndex(of: name) else { throw TestSupportError("a bet has no field \(name)") }
            fields[index] = value
        }
        try await set(key, to: BetStore.pack(fields))
    }
}
