import RedisClient

extension Scripts {
    /// The worker's check that a placed bet's stake is on the user's slot (`StakeConfirmer`), for a bet
    /// that `place_wallet_bet` listed as unconfirmed. A failover of the user's master can lose the write
    /// of `hold_stake` (replication is asynchronous) while the bet stands on the event's slot: without
    /// this the bet would be money created. A pending hold is posted; a posted or voided one is answered
    /// as it is; no trace at all (the hold was lost) takes the stake again (debit, `stake` ledger entry,
    /// the reference in the user's list, the hold recorded as posted) if the account covers it, and
    /// otherwise changes nothing (docs/decisions/0314).
    ///
    /// KEYS: user's holds, released holds, accounts, ledger, the user's bets list
    /// ARGV: bet id, amount (cents), account id
    /// Returns {'posted'} | {'released', 'post' | 'void'} | {'restaked', balance} | {'insufficient_funds', balance} |
    ///   {'no_account'}
    /// Errors: STORAGE_INVALID (a key or value the writes need is not what the scripts write there)
    public static let confirmStake = RedisScript(
        name: "confirm_stake",
        source: """
            #!lua
            local reference = ARGV[1]
            local released = redis.call('HGET', KEYS[2], reference)
            if released then return {'released', released} end
            \(checkTypes([(2, "hash")]))
            if redis.call('HEXISTS', KEYS[1], reference) == 1 then
              redis.call('HDEL', KEYS[1], reference)
              redis.call('HSET', KEYS[2], reference, 'post')
              return {'posted'}
            end
            local account = ARGV[3]
            local balance = redis.call('HGET', KEYS[3], account)
            if not balance then return {'no_account'} end
            \(notIntegerCheck)
            local refusal = notInteger(KEYS[3], account, balance)
            if refusal then return refusal end
            if not string.match(ARGV[2], '^%d+$') or #ARGV[2] > 15 then
              return redis.error_reply('STORAGE_INVALID a stake of ' .. ARGV[2] .. ' for bet ' .. reference)
            end
            if tonumber(balance) < tonumber(ARGV[2]) then return {'insufficient_funds', balance} end
            \(checkTypes([(4, "stream"), (5, "list")]))
            local after = redis.call('HINCRBY', KEYS[3], account, -tonumber(ARGV[2]))
            redis.call('XADD', KEYS[4], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[2], 'balance', after,
              'bet_id', reference)
            redis.call('HSET', KEYS[2], reference, 'post')
            redis.call('RPUSH', KEYS[5], reference)
            return {'restaked', tostring(after)}
            """)
}
