import RedisClient

extension Scripts {
    /// Places an anonymous bet (no money moves) unless its event has a result, or, for a catalogue
    /// event, unless a trader took it or it started by Redis's clock (betting closes at kick-off). With
    /// an idempotency key, a repeated request gets the id of the bet it placed, and a different request
    /// with the same key is refused.
    ///
    /// Every key is in the event's shard (`{sh:<n>}`): one slot on Redis Cluster.
    ///
    /// KEYS: event hash, event bet list, bet (`RedisKeys.bet`), the shard's list of anonymous bets
    ///       [, idempotency record (`RedisKeys.betIdempotency`)]
    /// ARGV: bet id (`BetID`), its serial, event id, amount (cents) [, fingerprint, ttl (ms)]
    /// Returns {'placed', created_at (ms)} | {'replayed', bet id} | {'idempotency_mismatch'} | {'closed', result} |
    ///   {'betting_closed', 'taken' | 'started', starts_at (ms)} | {'id_taken'}
    public static let placeBet = RedisScript(
        name: "place_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 5, fingerprint: 5))
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'starts_at', 'state')
            if event[1] then return {'closed', event[1]} end
            \(redisNow)
            if event[2] then
              if event[4] == 'in_progress' then return {'betting_closed', 'taken', event[3]} end
              if tonumber(now) >= tonumber(event[3]) then return {'betting_closed', 'started', event[3]} end
            end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            redis.call('HSET', KEYS[3], 'status', 'pending', 'amount', ARGV[4], 'created_at', now, 'event_id', ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[2])
            redis.call('RPUSH', KEYS[4], ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[4])
            \(saveIdempotentRequest(key: 5, fingerprint: 5))
            return {'placed', now}
            """)
}
