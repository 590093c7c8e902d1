import RedisClient

extension Scripts {
    /// Places a trade, pending: checks that the quote the API checked the order against is still the
    /// symbol's latest tick and not older than the maximum age, that the user is active and a player
    /// (staff, traders and administrators, do not trade with money) and the account is theirs and
    /// covers the stake; then debits the stake with a stake transaction naming the trade, writes the
    /// trade `pending` with its terms (in MessagePack: `Trade.Terms.init(encoded:)`) without a start,
    /// and indexes it in the symbol's pending set (by the time of that latest tick) and the user's trade
    /// list. The worker opens it at the first tick recorded after that one (`open_trades`): its start
    /// price is not known when it is accepted, so knowing the next price gains nothing. Without an
    /// account id the user's first account (lowest id) pays.
    ///
    /// Redis does not roll a script back, so everything the writes need is checked before the first
    /// one: the balance is an integer, the ledger a stream, the set and the list of their types (or not
    /// there yet). A key of another type refuses the trade (`STORAGE_INVALID`) with nothing debited and
    /// nothing written, rather than leave a debit without its ledger entry.
    ///
    /// KEYS: quote hash, trade hash, pending set, user hash, user's accounts, user's ledger, user's trade
    ///       list [, idempotency key]
    /// ARGV: trade id, latest tick id, stake (cents), user id, account id or '', symbol, direction,
    ///       leverage, duration (s), maximum quote age (ms) [, fingerprint, ttl (ms)]
    /// Returns {'placed', account id, created_at} | {'replayed', trade id} |
    ///   {'idempotency_mismatch'} | {'quote_moved'} | {'stale'} | {'inactive_user'} | {'staff', role} | {'no_account'} |
    ///   {'insufficient_funds', balance} | {'id_taken'}
    /// Errors: STORAGE_INVALID (a key the writes need holds something else)
    public static let placeTrade = RedisScript(
        name: "place_trade",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 8, fingerprint: 11))
            local quote = redis.call('HMGET', KEYS[1], 'tick', 'time')
            if quote[1] ~= ARGV[2] then return {'quote_moved'} end
            \(redisNow)
            if tonumber(now) - tonumber(quote[2]) > tonumber(ARGV[10]) then return {'stale'} end
            local user = redis.call('HMGET', KEYS[4], 'status', 'role')
            if user[1] ~= 'active' then return {'inactive_user'} end
            if user[2] == 'trader' or user[2] == 'admin' then return {'staff', user[2]} end
            local account = ARGV[5]
            if account == '' then
              local lowest
              for _, id in ipairs(redis.call('HKEYS', KEYS[5])) do
                if not lowest or tonumber(id) < lowest then lowest = tonumber(id) end
              end
              if not lowest then return {'no_account'} end
              account = string.format('%d', lowest)
            end
            local balance = redis.call('HGET', KEYS[5], account)
            if not balance then return {'no_account'} end
            if not string.match(balance, '^%-?%d+$') then
              return redis.error_reply('STORAGE_INVALID account ' .. account .. ' in ' .. KEYS[5] .. ' is no balance')
            end
            if tonumber(balance) < tonumber(ARGV[3]) then return {'insufficient_funds', balance} end
            if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
            \(checkTypes([(3, "zset"), (6, "stream"), (7, "list")]))
            local after = redis.call('HINCRBY', KEYS[5], account, '-' .. ARGV[3])
            redis.call('XADD', KEYS[6], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[3],
              'balance', after, 'trade_id', ARGV[1])
            -- The terms in MessagePack (`Trade.Terms.init(encoded:)`), the numbers as numbers: every one is
            -- below 2^53 (stakes by the settings' limits), so exact as a Lua number. No start yet.
            local latestTime, latestSequence = string.match(ARGV[2], '^(%d+)-(%d+)$')
            local terms = cmsgpack.pack(ARGV[4], account, ARGV[6], ARGV[7], tonumber(ARGV[3]), tonumber(ARGV[8]), tonumber(ARGV[9]),
              0, 0, 0, 0, tonumber(now), 0, tonumber(latestTime), tonumber(latestSequence))
            redis.call('HSET', KEYS[2], 'status', 'pending', '\(Trade.Terms.field)', terms)
            redis.call('ZADD', KEYS[3], latestTime, ARGV[1])
            redis.call('RPUSH', KEYS[7], ARGV[1])
            \(saveIdempotentRequest(key: 8, fingerprint: 11))
            return {'placed', account, now}
            """)
}
