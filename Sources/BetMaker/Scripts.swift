import RedisClient

/// Every Lua script of bet-maker. Each is one atomic step; each checks everything before it writes
/// (Redis does not roll a script back), and each touches only keys passed in KEYS.
public enum Scripts {
    /// Places a bet unless its event has a result. With an idempotency key, a repeated request gets
    /// the saved response, and a different request with the same key is refused.
    ///
    /// KEYS: event hash, event bet list, bet hash, pending index [, idempotency key]
    /// ARGV: bet id, event id, amount (cents), created_at (ms) [, fingerprint, response, ttl (ms)]
    /// Returns {'placed'} | {'replayed', response} | {'idempotency_mismatch'} | {'closed', result} | {'id_taken'}
    public static let placeBet = RedisScript(
        name: "place_bet",
        source: """
            if KEYS[5] then
              local saved = redis.call('HMGET', KEYS[5], 'fingerprint', 'response')
              if saved[1] then
                if saved[1] == ARGV[5] then return {'replayed', saved[2]} end
                return {'idempotency_mismatch'}
              end
            end
            local result = redis.call('HGET', KEYS[1], 'result')
            if result then return {'closed', result} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            redis.call('HSET', KEYS[3], 'event_id', ARGV[2], 'amount', ARGV[3], 'status', 'pending', 'created_at', ARGV[4])
            redis.call('RPUSH', KEYS[2], ARGV[1])
            redis.call('ZADD', KEYS[4], 0, ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[3])
            if KEYS[5] then
              redis.call('HSET', KEYS[5], 'fingerprint', ARGV[5], 'response', ARGV[6])
              redis.call('PEXPIRE', KEYS[5], ARGV[7])
            end
            return {'placed'}
            """)

    /// Records an event's result and announces it on the events stream, once. The same result again
    /// changes nothing; a different one is refused.
    ///
    /// KEYS: event hash, events stream
    /// ARGV: result, reported_at (ms), event id
    /// Returns {'reported'} | {'unchanged'} | {'conflict', current result}
    public static let reportResult = RedisScript(
        name: "report_result",
        source: """
            local current = redis.call('HGET', KEYS[1], 'result')
            if current then
              if current == ARGV[1] then return {'unchanged'} end
              return {'conflict', current}
            end
            redis.call('HSET', KEYS[1], 'result', ARGV[1], 'reported_at', ARGV[2])
            redis.call('XADD', KEYS[2], '*', 'event_id', ARGV[3], 'result', ARGV[1], 'reported_at', ARGV[2])
            return {'reported'}
            """)

    /// Settles one batch of an event's bets and returns the ids of the next batch.
    ///
    /// The event hash keeps `settle_pos`, how far down the event's bet list settlement has come; the
    /// caller says which position its batch starts at, and the script applies it only if that is
    /// still true. A redelivered entry, a second worker or a retry after a crash therefore settles
    /// nothing twice: a stale batch is skipped and the caller continues from the real position.
    /// Bets below `settle_pos` are settled and bets from it on are pending, because only this script
    /// changes a bet's status and it moves `settle_pos` in the same step.
    ///
    /// The caller cannot know the bet keys before it has read the list, so every call returns the
    /// next batch's ids; the caller passes their keys in KEYS to the next call. A first call with no
    /// bet keys only plans.
    ///
    /// KEYS: event hash, event bet list, pending index, index of the settled status, bet hashes...
    /// ARGV: result, position of the batch, size of the next batch, settled_at (ms), bet key prefix
    /// Returns {'more', position, next ids...} | {'done', position, won, lost}
    /// Errors: RESULT_MISMATCH (the entry's result is not the event's), STALE_BATCH (keys and list disagree)
    public static let settleBatch = RedisScript(
        name: "settle_batch",
        source: """
            local event = KEYS[1]
            local state = redis.call('HMGET', event, 'result', 'settle_pos', 'settled_at')
            if state[1] ~= ARGV[1] then
              return redis.error_reply('RESULT_MISMATCH the event result is ' .. tostring(state[1]) .. ', not ' .. ARGV[1])
            end
            local position = tonumber(state[2] or '0')
            local count = #KEYS - 4
            if count > 0 and position == tonumber(ARGV[2]) then
              local ids = redis.call('LRANGE', KEYS[2], position, position + count - 1)
              if #ids ~= count then return redis.error_reply('STALE_BATCH the list has fewer bets than keys') end
              for i = 1, count do
                if KEYS[4 + i] ~= ARGV[5] .. ids[i] then
                  return redis.error_reply('STALE_BATCH key ' .. KEYS[4 + i] .. ' is not bet ' .. ids[i])
                end
              end
              local status = (ARGV[1] == 'WIN') and 'won' or 'lost'
              local members = {}
              for i = 1, count do
                redis.call('HSET', KEYS[4 + i], 'status', status, 'settled_at', ARGV[4])
                members[2 * i - 1] = 0
                members[2 * i] = ids[i]
              end
              redis.call('ZREM', KEYS[3], unpack(ids))
              redis.call('ZADD', KEYS[4], unpack(members))
              redis.call('HINCRBY', event, status, count)
              position = position + count
              redis.call('HSET', event, 'settle_pos', position)
            end
            if position >= redis.call('LLEN', KEYS[2]) then
              if not state[3] then redis.call('HSET', event, 'settled_at', ARGV[4]) end
              local counts = redis.call('HMGET', event, 'won', 'lost')
              return {'done', position, tonumber(counts[1] or '0'), tonumber(counts[2] or '0')}
            end
            local batch = redis.call('LRANGE', KEYS[2], position, position + tonumber(ARGV[3]) - 1)
            return {'more', position, unpack(batch)}
            """)

    /// Moves a stream entry the workers gave up on to the dead-letter stream and acknowledges it, in
    /// one step, so it is neither lost nor handled again.
    ///
    /// KEYS: events stream, dead-letter stream
    /// ARGV: group, entry id, reason, deliveries, dead-letter max length, then the entry's field/value pairs
    public static let deadLetter = RedisScript(
        name: "dead_letter",
        source: """
            local fields = {'entry_id', ARGV[2], 'reason', ARGV[3], 'deliveries', ARGV[4]}
            for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    public static let all = [placeBet, reportResult, settleBatch, deadLetter]
}
