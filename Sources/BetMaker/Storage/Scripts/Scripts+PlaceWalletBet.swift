import RedisClient

extension Scripts {
    /// Places a bet with money: checks that the user is active, that the event is an open catalogue
    /// event without a result, and that the account is the user's and covers the stake; then debits
    /// the stake, records the stake transaction and writes the bet with the odds locked in, all in
    /// one step. Without an account id the user's first account (lowest id) pays.
    ///
    /// KEYS: event hash, event bet list, bet (`RedisKeys.bet`), user hash, user's accounts, user's ledger, user's
    ///       bet list [, idempotency key]
    /// ARGV: bet id (`BetID`), its serial, event id, amount (cents), user id, account id or '' [, fingerprint, ttl (ms)]
    /// Returns {'placed', account id, odds, payout, created_at (ms)} | {'replayed', bet id} |
    ///   {'idempotency_mismatch'} | {'inactive_user'} | {'closed', result} | {'not_in_catalogue'} |
    ///   {'not_open'} | {'no_account'} | {'insufficient_funds', balance} | {'id_taken'}
    public static let placeWalletBet = RedisScript(
        name: "place_wallet_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 8, fingerprint: 7))
            if redis.call('HGET', KEYS[4], 'status') ~= 'active' then return {'inactive_user'} end
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'open', 'odds')
            if event[1] then return {'closed', event[1]} end
            if not event[2] then return {'not_in_catalogue'} end
            if event[3] ~= '1' then return {'not_open'} end
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
            local stake = tonumber(ARGV[4])
            if tonumber(balance) < stake then return {'insufficient_funds', balance} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            local odds = event[4]
            \(redisNow)
            local gross = stake * tonumber(odds)
            local payout = string.format('%.0f', (gross - gross % 100) / 100)
            local after = redis.call('HINCRBY', KEYS[5], account, -stake)
            redis.call('XADD', KEYS[6], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[4],
              'balance', after, 'bet_id', ARGV[1])
            redis.call('HSET', KEYS[3], 'status', 'pending', 'amount', ARGV[4], 'created_at', now, 'user_id', ARGV[5],
              'account_id', account, 'odds', odds, 'payout', payout, 'event_id', ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[2] .. ':' .. ARGV[5] .. ':' .. account)
            redis.call('RPUSH', KEYS[7], ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[4])
            \(saveIdempotentRequest(key: 8, fingerprint: 7))
            return {'placed', account, odds, payout, now}
            """)
}
