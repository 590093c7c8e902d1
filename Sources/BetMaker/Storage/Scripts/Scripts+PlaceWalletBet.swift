import RedisClient

extension Scripts {
    /// The second step of a bet with money (`BetStore.place(eventID:amount:userID:...)`), on the event's
    /// slot alone, once the stake is held on the user's (`hold_stake`): checks that the event is an open
    /// catalogue event without a result, not taken by a trader and not started by Redis's clock (betting
    /// closes at kick-off); then writes the bet with the odds locked in, its entry in the event's list,
    /// the event's counts, the user among its bettors (whom `take_event` refuses) and the bet among the
    /// shard's unconfirmed stakes (`StakeConfirmer` checks later that the user's slot kept the stake).
    ///
    /// Idempotent by the bet id: a bet already written for this user answers as placed then. A bet the
    /// reconciler gave up on (`abandon_bet`: its hold was voided) is refused, so a late call places no
    /// bet whose stake went back.
    ///
    /// KEYS: event hash, event bet list, bet (`RedisKeys.bet`), event's bettors, event's abandoned bets,
    ///       shard's unconfirmed stakes
    /// ARGV: bet id (`BetID`), its serial, event id, amount (cents), user id, account id
    /// Returns {'placed', odds, payout, created_at (ms)} | {'closed', result} | {'not_in_catalogue'} | {'not_open'} |
    ///   {'betting_closed', 'taken' | 'started', starts_at (ms)} | {'abandoned'} | {'id_taken'}
    /// Errors: STORAGE_INVALID (a key or value the writes need is not what the scripts write there)
    public static let placeWalletBet = RedisScript(
        name: "place_wallet_bet",
        source: """
            #!lua
            local existing = redis.call('HMGET', KEYS[3], 'user_id', 'odds', 'payout', 'created_at')
            if existing[1] then
              if existing[1] ~= ARGV[5] then return {'id_taken'} end
              return {'placed', existing[2], existing[3], existing[4]}
            end
            if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then return {'abandoned'} end
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'open', 'odds', 'starts_at', 'state', 'bets', 'staked')
            if event[1] then return {'closed', event[1]} end
            if not event[2] then return {'not_in_catalogue'} end
            if event[3] ~= '1' then return {'not_open'} end
            \(redisNow)
            if event[6] == 'in_progress' then return {'betting_closed', 'taken', event[5]} end
            if tonumber(now) >= tonumber(event[5]) then return {'betting_closed', 'started', event[5]} end
            \(notIntegerCheck)
            local refusal = notInteger(KEYS[1], 'bets', event[7]) or notInteger(KEYS[1], 'staked', event[8])
              or notInteger(KEYS[1], 'odds', event[4])
            if refusal then return refusal end
            \(checkTypes([(2, "list"), (4, "set"), (6, "zset")]))
            local stake = tonumber(ARGV[4])
            local odds = event[4]
            local gross = stake * tonumber(odds)
            local payout = string.format('%.0f', (gross - gross % 100) / 100)
            redis.call('HSET', KEYS[3], 'status', 'pending', 'amount', ARGV[4], 'created_at', now, 'user_id', ARGV[5],
              'account_id', ARGV[6], 'odds', odds, 'payout', payout, 'event_id', ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[2] .. ':' .. ARGV[5] .. ':' .. ARGV[6])
            redis.call('SADD', KEYS[4], ARGV[5])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[4])
            redis.call('ZADD', KEYS[6], now, ARGV[1])
            return {'placed', odds, payout, now}
            """)

    /// The reconciler's question to an event's slot about a bet whose hold is old (`Reconciler`): is the
    /// bet there? If not, it is recorded as abandoned in the same step, so `place_wallet_bet` refuses it
    /// later and the hold can be voided safely.
    ///
    /// KEYS: bet (`RedisKeys.bet`), event's abandoned bets
    /// ARGV: the bet's serial, user id
    /// Returns {'placed'} | {'abandoned'} | {'id_taken'} (a bet of another user has the id)
    public static let abandonBet = RedisScript(
        name: "abandon_bet",
        source: """
            #!lua
            local owner = redis.call('HGET', KEYS[1], 'user_id')
            if owner == ARGV[2] then return {'placed'} end
            if owner then return {'id_taken'} end
            redis.call('SADD', KEYS[2], ARGV[1])
            return {'abandoned'}
            """)
}
