import RedisClient

extension Scripts {
    /// Places a trade: checks that the quote the API priced it at is still the symbol's latest tick
    /// and not older than the maximum age, that the user is active and a player (staff, traders and
    /// administrators, do not trade with money) and the account is theirs and covers the stake; then
    /// debits the stake with a stake transaction naming the trade, writes the trade,
    /// and indexes it: in the symbol's due set (by expiry), in the open set of its symbol and direction
    /// (by liquidation price, 0 when it cannot be stopped out), in the user's trade list, and with its
    /// terms in the symbol's open-trade terms (`RedisKeys.openTradeTerms`, in MessagePack:
    /// `Trade.Terms.init(encoded:)`). Expiry is Redis's clock plus the duration, the clock tick ids are
    /// on. Without an account id the user's first account (lowest id) pays.
    ///
    /// Redis does not roll a script back, so everything the writes need is checked before the first
    /// one: the balance is an integer, the ledger a stream, the sets, the list and the terms of their
    /// types (or not there yet). A key of another type refuses the trade (`STORAGE_INVALID`) with
    /// nothing debited and nothing written, rather than leave a debit without its ledger entry.
    ///
    /// KEYS: quote hash, trade hash, due set, open set, user hash, user's accounts, user's ledger, user's
    ///       trade list, the symbol's open-trade terms [, idempotency key]
    /// ARGV: trade id, tick id priced at, stake (cents), user id, account id or '', symbol, direction,
    ///       leverage, duration (s), start price, liquidation price (0: none), maximum quote age (ms)
    ///       [, fingerprint, ttl (ms)]
    /// Returns {'placed', account id, created_at, expires_at} | {'replayed', trade id} |
    ///   {'idempotency_mismatch'} | {'quote_moved'} | {'stale'} | {'inactive_user'} | {'staff', role} | {'no_account'} |
    ///   {'insufficient_funds', balance} | {'id_taken'}
    /// Errors: STORAGE_INVALID (a key the writes need holds something else)
    public static let placeTrade = RedisScript(
        name: "place_trade",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 10, fingerprint: 13))
            local quote = redis.call('HMGET', KEYS[1], 'tick', 'time', 'price')
            if quote[1] ~= ARGV[2] or quote[3] ~= ARGV[10] then return {'quote_moved'} end
            \(redisNow)
            if tonumber(now) - tonumber(quote[2]) > tonumber(ARGV[12]) then return {'stale'} end
            local user = redis.call('HMGET', KEYS[5], 'status', 'role')
            if user[1] ~= 'active' then return {'inactive_user'} end
            if user[2] == 'trader' or user[2] == 'admin' then return {'staff', user[2]} end
            local account = ARGV[5]
            if account == '' then
              local lowest
              for _, id in ipairs(redis.call('HKEYS', KEYS[6])) do
                if not lowest or tonumber(id) < lowest then lowest = tonumber(id) end
              end
              if not lowest then return {'no_account'} end
              account = string.format('%d', lowest)
            end
            local balance = redis.call('HGET', KEYS[6], account)
            if not balance then return {'no_account'} end
            if not string.match(balance, '^%-?%d+$') then
              return redis.error_reply('STORAGE_INVALID account ' .. account .. ' in ' .. KEYS[6] .. ' is no balance')
            end
            if tonumber(balance) < tonumber(ARGV[3]) then return {'insufficient_funds', balance} end
            if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
            \(checkTypes([(3, "zset"), (4, "zset"), (7, "stream"), (8, "list"), (9, "hash")]))
            local expires = string.format('%d', tonumber(now) + tonumber(ARGV[9]) * 1000)
            local after = redis.call('HINCRBY', KEYS[6], account, '-' .. ARGV[3])
            redis.call('XADD', KEYS[7], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[3],
              'balance', after, 'trade_id', ARGV[1])
            -- The terms in MessagePack (`Trade.Terms.init(encoded:)`), the numbers as numbers: every one is
            -- below 2^53 (prices by `Price.maximum`, stakes by the settings' limits), so exact as a Lua number.
            local startTime, startSequence = string.match(ARGV[2], '^(%d+)-(%d+)$')
            local terms = cmsgpack.pack(ARGV[4], account, ARGV[6], ARGV[7], tonumber(ARGV[3]), tonumber(ARGV[8]), tonumber(ARGV[9]),
              tonumber(startTime), tonumber(startSequence), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(now), tonumber(expires))
            redis.call('HSET', KEYS[2], 'status', 'open', '\(Trade.Terms.field)', terms)
            redis.call('HSET', KEYS[9], ARGV[1], terms)
            redis.call('ZADD', KEYS[3], expires, ARGV[1])
            redis.call('ZADD', KEYS[4], ARGV[11], ARGV[1])
            redis.call('RPUSH', KEYS[8], ARGV[1])
            \(saveIdempotentRequest(key: 10, fingerprint: 13))
            return {'placed', account, now, expires}
            """)
}
