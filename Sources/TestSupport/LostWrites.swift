import BetMaker
import RedisClient

/// What a failover that lost a write leaves behind, made by hand (replication is asynchronous: a promoted
/// replica may lack a master's last writes). Tests of the repairs use these instead of racing a crash.
public enum LostWrites {
    /// The user's slot as if `hold_stake` of a bet (and its release) had never reached it: no hold, no
    /// release record, no `stake` ledger entry, the bet not in the user's list, the balance as before.
    public static func loseStake(
        redis: RedisClient, keys: RedisKeys, bet id: BetID, userID: Int, accountID: Int, amount: Money
    )
        async throws
    {
        let reference = id.description
        _ = try await redis.hdel(keys.holds(userID), [reference])
        _ = try await redis.hdel(keys.releasedHolds(userID), [reference])
        let stakes = try await redis.xrange(keys.ledger(userID)).filter {
            $0.fields?["bet_id"] == reference && $0.fields?["type"] == "stake"
        }
        guard !stakes.isEmpty else { throw TestSupportError("no stake entry for \(reference) in \(keys.ledger(userID))") }
        _ = try await redis.send(RedisCommand("XDEL", arguments: [keys.ledger(userID)] + stakes.map(\.id)))
        _ = try await redis.send(RedisCommand("LREM", keys.userBets(userID), "0", reference))
        _ = try await redis.hincrby(keys.accounts(userID), String(accountID), by: Int(amount.cents))
    }

    /// The event's slot as if `place_wallet_bet` had never reached it: no bet hash, no entry in the event's
    /// list, counts as before (the hold on the user's slot stays, pending).
    public static func loseBet(redis: RedisClient, keys: RedisKeys, bet id: BetID, userID: Int, accountID: Int, amount: Money) async throws
    {
        _ = try await redis.send(RedisCommand("DEL", keys.bet(id)))
        _ = try await redis.send(
            RedisCommand("LREM", keys.eventBets(id.eventID), "0", id.serial + ":" + String(userID) + ":" + String(accountID)))
        // The user stays a bettor if another bet of theirs on the event was written before.
        let entries = try await redis.lrange(keys.eventBets(id.eventID), 0, -1)
        if !entries.contains(where: { $0.hasSuffix(":" + String(userID) + ":" + String(accountID)) }) {
            _ = try await redis.send(RedisCommand("SREM", keys.eventBettors(id.eventID), String(userID)))
        }
        _ = try await redis.hincrby(keys.event(id.eventID), "bets", by: -1)
        _ = try await redis.hincrby(keys.event(id.eventID), "staked", by: -Int(amount.cents))
        _ = try await redis.zrem(keys.unconfirmedStakes(of: id.eventID), [id.description])
    }
}
