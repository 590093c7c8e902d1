import RedisClient

extension Scripts {
    /// The second step of placing a trade (`TradeStore.place`), on the symbol's slot alone: the stake is
    /// held on the user's slot already (`hold_stake`, the trade id as its reference). Checks that the quote
    /// the API checked the order against is still the symbol's latest tick and not older than the maximum
    /// age; then writes the trade `pending` with its terms (in MessagePack: `Trade.Terms.init(encoded:)`)
    /// without a start, and indexes it in the symbol's pending set (by the time of that latest tick). The
    /// worker opens it at the first tick recorded after that one (`open_trades`).
    ///
    /// Idempotent by the trade id: a trade already there is answered as it is (a retry after an unknown
    /// outcome). A trade id the reconciler gave up on (`abandon_trade`: its hold was voided) is refused,
    /// so a late placement never holds a trade whose stake went back.
    ///
    /// KEYS: quote hash, trade hash, pending set, the symbol's abandoned trades
    /// ARGV: trade id, latest tick id, stake (cents), user id, account id, symbol, direction, leverage,
    ///       duration (s), maximum quote age (ms), key prefix
    /// Returns {'placed', created_at} | {'exists', status} | {'abandoned'} | {'quote_moved'} | {'stale'}
    /// Errors: KEYS_MISMATCH (the keys are not the trade's symbol's), STORAGE_INVALID (a key the writes
    /// need holds something else)
    public static let placeTrade = RedisScript(
        name: "place_trade",
        source: """
            #!lua
            local id, symbol = ARGV[1], ARGV[6]
            local tag = ARGV[11] .. '{sym:' .. symbol .. '}:'
            if string.sub(id, 1, #symbol + 1) ~= symbol .. '~' or KEYS[1] ~= tag .. 'quote'
              or KEYS[2] ~= tag .. 'trade:' .. string.sub(id, #symbol + 2) or KEYS[3] ~= tag .. 'trades:pending'
              or KEYS[4] ~= tag .. 'trades:abandoned' then
              return redis.error_reply('KEYS_MISMATCH the keys are not those of trade ' .. id)
            end
            local status = redis.pcall('HGET', KEYS[2], 'status')
            if status then return {'exists', type(status) == 'string' and status or 'damaged'} end
            if redis.call('HEXISTS', KEYS[4], id) == 1 then return {'abandoned'} end
            local quote = redis.call('HMGET', KEYS[1], 'tick', 'time')
            if quote[1] ~= ARGV[2] then return {'quote_moved'} end
            \(redisNow)
            if tonumber(now) - tonumber(quote[2]) > tonumber(ARGV[10]) then return {'stale'} end
            \(checkTypes([(3, "zset")]))
            -- The terms in MessagePack (`Trade.Terms.init(encoded:)`), the numbers as numbers: every one is
            -- below 2^53 (stakes by the settings' limits), so exact as a Lua number. No start yet.
            local latestTime, latestSequence = string.match(ARGV[2], '^(%d+)-(%d+)$')
            local terms = cmsgpack.pack(ARGV[4], ARGV[5], symbol, ARGV[7], tonumber(ARGV[3]), tonumber(ARGV[8]), tonumber(ARGV[9]),
              0, 0, 0, 0, tonumber(now), 0, tonumber(latestTime), tonumber(latestSequence))
            redis.call('HSET', KEYS[2], 'status', 'pending', '\(Trade.Terms.field)', terms)
            redis.call('ZADD', KEYS[3], latestTime, id)
            return {'placed', now}
            """)

    /// The reconciler's question to a symbol about a trade whose hold is still pending (`TradeHoldOwner`):
    /// is it placed? If its hash exists it is (the hold is posted); if not, the trade id is
    /// recorded as abandoned (`RedisKeys.abandonedTrades`) so `place_trade` refuses it from now on, and the
    /// hold can be voided without a late placement holding a trade whose stake went back.
    ///
    /// KEYS: trade hash, the symbol's abandoned trades
    /// ARGV: trade id
    /// Returns {'placed'} | {'abandoned'}
    public static let abandonTrade = RedisScript(
        name: "abandon_trade",
        source: """
            #!lua
            if redis.call('EXISTS', KEYS[1]) == 1 then return {'placed'} end
            \(checkTypes([(2, "hash")]))
            \(redisNow)
            redis.call('HSETNX', KEYS[2], ARGV[1], now)
            return {'abandoned'}
            """)
}
