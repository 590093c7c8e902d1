import RedisClient

/// Every Lua script of bet-maker. Each is one atomic step; each checks everything before it writes
/// (Redis does not roll a script back), and each touches only keys passed in KEYS.
///
/// The `#!lua` line makes Redis treat a script as a whole: one that may write is refused before it
/// starts when Redis is out of memory (`OOM`), instead of failing halfway with some writes made; one
/// marked `no-writes` still runs then, so reading works while writing cannot.
public enum Scripts {
    /// Places a bet unless its event has a result. With an idempotency key, a repeated request gets
    /// the saved response, and a different request with the same key is refused.
    ///
    /// KEYS: event hash, event bet list, bet hash, index of all bets [, idempotency key]
    /// ARGV: bet id, event id, amount (cents), created_at (ms) [, fingerprint, response, ttl (ms)]
    /// Returns {'placed'} | {'replayed', response} | {'idempotency_mismatch'} | {'closed', result} | {'id_taken'}
    public static let placeBet = RedisScript(
        name: "place_bet",
        source: """
            #!lua
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
            #!lua
            local current = redis.call('HGET', KEYS[1], 'result')
            if current then
              if current == ARGV[1] then return {'unchanged'} end
              return {'conflict', current}
            end
            redis.call('HSET', KEYS[1], 'result', ARGV[1], 'reported_at', ARGV[2])
            redis.call('XADD', KEYS[2], '*', 'event_id', ARGV[3], 'result', ARGV[1], 'reported_at', ARGV[2])
            return {'reported'}
            """)

    /// Settles one batch of an event's bets.
    ///
    /// The event hash keeps `settle_pos`, how far down the event's bet list settlement has come; the
    /// caller says which position its batch starts at, and the script applies it only if that is
    /// still true. A redelivered entry, a second worker or a retry after a crash therefore settles
    /// nothing twice: a stale batch changes nothing and the caller learns the real position. Bets
    /// below `settle_pos` are settled and bets from it on are pending, because only this script
    /// changes a bet's status and it moves `settle_pos` in the same step.
    ///
    /// The caller reads the batch's ids from the list (positions in it never change: the list is
    /// append-only) and passes their keys in KEYS; the script checks every key against the list, so
    /// a misaligned or foreign batch is refused whole. A call without bets only reports where
    /// settlement stands.
    ///
    /// KEYS: event hash, event bet list, bet hashes...
    /// ARGV: result, position of the batch, settled_at (ms), bet key prefix
    /// Returns {'applied' | 'stale', position, total bets, finished (0|1), won, lost}
    /// Errors: RESULT_MISMATCH (the entry's result is not the event's), STALE_BATCH (not the bets at that position)
    public static let settleBatch = RedisScript(
        name: "settle_batch",
        source: """
            #!lua
            local event = KEYS[1]
            local state = redis.call('HMGET', event, 'result', 'settle_pos', 'settled_at')
            if state[1] ~= ARGV[1] then
              return redis.error_reply('RESULT_MISMATCH the event result is ' .. tostring(state[1]) .. ', not ' .. ARGV[1])
            end
            local position = tonumber(state[2] or '0')
            local count = #KEYS - 2
            local outcome = 'stale'
            if count > 0 and position == tonumber(ARGV[2]) then
              local ids = redis.call('LRANGE', KEYS[2], position, position + count - 1)
              for i = 1, count do
                if KEYS[2 + i] ~= ARGV[4] .. (ids[i] or '') then
                  return redis.error_reply('STALE_BATCH ' .. KEYS[2 + i] .. ' is not the bet at position ' .. (position + i - 1))
                end
              end
              local status = (ARGV[1] == 'WIN') and 'won' or 'lost'
              for i = 1, count do
                redis.call('HSET', KEYS[2 + i], 'status', status, 'settled_at', ARGV[3])
              end
              redis.call('HINCRBY', event, status, count)
              position = position + count
              redis.call('HSET', event, 'settle_pos', position)
              outcome = 'applied'
            end
            local total = redis.call('LLEN', KEYS[2])
            local finished = 0
            if position >= total then
              if not state[3] then redis.call('HSET', event, 'settled_at', ARGV[3]) end
              finished = 1
            end
            local counts = redis.call('HMGET', event, 'won', 'lost')
            return {outcome, position, total, finished, tonumber(counts[1] or '0'), tonumber(counts[2] or '0')}
            """)

    /// Reads many bets in one call (a page of a listing): one command and one reply instead of one
    /// per bet, which is most of what a listing costs the API.
    ///
    /// KEYS: bet hashes
    /// Returns one array of [event_id, amount, status, created_at, settled_at] per key (nil fields if missing)
    public static let readBets = RedisScript(
        name: "read_bets",
        source: """
            #!lua flags=no-writes
            local bets = {}
            for i = 1, #KEYS do
              bets[i] = redis.call('HMGET', KEYS[i], 'event_id', 'amount', 'status', 'created_at', 'settled_at')
            end
            return bets
            """)

    /// Moves a stream entry the workers gave up on to the dead-letter stream and acknowledges it, in
    /// one step, so it is neither lost nor handled again.
    ///
    /// KEYS: events stream, dead-letter stream
    /// ARGV: group, entry id, reason, deliveries, dead-letter max length, then the entry's field/value pairs
    public static let deadLetter = RedisScript(
        name: "dead_letter",
        source: """
            #!lua
            local fields = {'entry_id', ARGV[2], 'reason', ARGV[3], 'deliveries', ARGV[4]}
            for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    public static let all = [placeBet, reportResult, settleBatch, readBets, deadLetter]
}
