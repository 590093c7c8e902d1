import RedisClient

extension Scripts {
    /// Places an anonymous bet (no money moves) unless its event has a result. With an idempotency
    /// key, a repeated request gets the id of the bet it placed, and a different request with the
    /// same key is refused.
    ///
    /// KEYS: event hash, event bet list, bet (`RedisKeys.bet`), list of anonymous bets [, idempotency key]
    /// ARGV: bet id (`BetID`), its serial, event id, amount (cents) [, fingerprint, ttl (ms)]
    /// Returns {'placed', created_at (ms)} | {'replayed', bet id} | {'idempotency_mismatch'} | {'closed', result} | {'id_taken'}
    public static let placeBet = RedisScript(
        name: "place_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 5, fingerprint: 5))
            local result = redis.call('HGET', KEYS[1], 'result')
            if result then return {'closed', result} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            \(redisNow)
            redis.call('HSET', KEYS[3], 'status', 'pending', 'amount', ARGV[4], 'created_at', now, 'event_id', ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[2])
            redis.call('RPUSH', KEYS[4], ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[4])
            \(saveIdempotentRequest(key: 5, fingerprint: 5))
            return {'placed', now}
            """)
}
