import RedisClient

extension Scripts {
    /// Places a bet with money: checks that the user is active and a player (staff, traders and
    /// administrators, do not bet), that the event is an open catalogue event without a result, not
    /// taken by a trader and not started by Redis's clock (betting closes at kick-off), and that the
    /// account is the user's and covers the stake; then debits the stake, records the stake
    /// transaction, writes the bet with the odds locked in and adds the user to the event's bettors
    /// (whom `take_event` refuses), all in one step. Without an account id the user's first account
    /// (lowest id) pays.
    ///
    /// Every write that Redis could refuse is checked before the first one (a ledger that is no stream,
    /// a balance or counter that is no whole number, ...): a refusal halfway would leave a debit without
    /// its ledger entry. Such damage is an error reply (`STORAGE_INVALID`), and nothing is written.
    ///
    /// KEYS: event hash, event bet list, bet (`RedisKeys.bet`), user hash, user's accounts, user's ledger, user's
    ///       bet list, event's bettors [, idempotency key]
    /// ARGV: bet id (`BetID`), its serial, event id, amount (cents), user id, account id or '' [, fingerprint, ttl (ms)]
    /// Returns {'placed', account id, odds, payout, created_at (ms)} | {'replayed', bet id} |
    ///   {'idempotency_mismatch'} | {'inactive_user'} | {'staff', role} | {'closed', result} | {'not_in_catalogue'} |
    ///   {'not_open'} | {'betting_closed', 'taken' | 'started', starts_at (ms)} | {'no_account'} |
    ///   {'insufficient_funds', balance} | {'id_taken'}
    /// Errors: STORAGE_INVALID (a key or value the writes need is not what the scripts write there)
    public static let placeWalletBet = RedisScript(
        name: "place_wallet_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 9, fingerprint: 7))
            local user = redis.call('HMGET', KEYS[4], 'status', 'role')
            if user[1] ~= 'active' then return {'inactive_user'} end
            if user[2] == 'trader' or user[2] == 'admin' then return {'staff', user[2]} end
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'open', 'odds', 'starts_at', 'state', 'bets', 'staked')
            if event[1] then return {'closed', event[1]} end
            if not event[2] then return {'not_in_catalogue'} end
            if event[3] ~= '1' then return {'not_open'} end
            \(redisNow)
            if event[6] == 'in_progress' then return {'betting_closed', 'taken', event[5]} end
            if tonumber(now) >= tonumber(event[5]) then return {'betting_closed', 'started', event[5]} end
            local account = ARGV[6]
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
            \(notIntegerCheck)
            local refusal = notInteger(KEYS[5], account, balance) or notInteger(KEYS[1], 'bets', event[7])
              or notInteger(KEYS[1], 'staked', event[8])
            if refusal then return refusal end
            local stake = tonumber(ARGV[4])
            if tonumber(balance) < stake then return {'insufficient_funds', balance} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            -- (The idempotency key, when there is one, was read as a hash above: another type failed there.)
            \(checkTypes([(6, "stream"), (2, "list"), (7, "list"), (8, "set")]))
            local odds = event[4]
            local gross = stake * tonumber(odds)
            local payout = string.format('%.0f', (gross - gross % 100) / 100)
            local after = redis.call('HINCRBY', KEYS[5], account, -stake)
            redis.call('XADD', KEYS[6], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[4],
              'balance', after, 'bet_id', ARGV[1])
            redis.call('HSET', KEYS[3], 'status', 'pending', 'amount', ARGV[4], 'created_at', now, 'user_id', ARGV[5],
              'account_id', account, 'odds', odds, 'payout', payout, 'event_id', ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[2] .. ':' .. ARGV[5] .. ':' .. account)
            redis.call('RPUSH', KEYS[7], ARGV[1])
            redis.call('SADD', KEYS[8], ARGV[5])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[4])
            \(saveIdempotentRequest(key: 9, fingerprint: 7))
            return {'placed', account, odds, payout, now}
            """)
}
