import RedisClient

extension Scripts {
    /// The first step of a bet or trade with money, on the user's slot alone (`Wallet.hold`): checks that
    /// the user is an active player (staff, traders and administrators, do not bet or trade) and that the
    /// account is the user's and covers the stake; then debits the stake with a `stake` ledger entry naming
    /// the reference, records the pending hold (`RedisKeys.holds`), appends the reference to the user's bets
    /// or trades list and keeps the Idempotency-Key. Without an account id the user's first account (lowest
    /// id) pays.
    ///
    /// Idempotent by the reference: a repeat answers the first outcome (`held` while pending, `released`
    /// once posted or voided). A request whose Idempotency-Key was seen is answered with the reference it
    /// held and that hold's state; a key whose hold was voided (its bet was refused or abandoned) is free
    /// again, as a refused request today records nothing.
    ///
    /// KEYS: user hash, user's accounts, ledger, holds, released holds, the user's bets or trades list
    ///       [, idempotency key (`RedisKeys.userIdempotency`)]
    /// ARGV: reference (bet or trade id), kind (`bet` | `trade`), amount (cents), account id or ''
    ///       [, fingerprint, ttl (ms)]
    /// Returns {'held', account id, created_at (ms)} | {'released', 'post' | 'void'} |
    ///   {'replayed', reference, 'held', hold record} | {'replayed', reference, 'post'} | {'idempotency_mismatch'} |
    ///   {'inactive_user'} | {'staff', role} | {'no_account'} | {'insufficient_funds', balance}
    /// Errors: STORAGE_INVALID (a key or value the writes need is not what the scripts write there)
    public static let holdStake = RedisScript(
        name: "hold_stake",
        source: """
            #!lua
            local reference = ARGV[1]
            local held = redis.call('HGET', KEYS[4], reference)
            if held then
              local _, account, _, created = string.match(held, '^(%a+):(%d+):(%d+):(%d+)$')
              return {'held', tostring(account), tostring(created)}
            end
            local released = redis.call('HGET', KEYS[5], reference)
            if released then return {'released', released} end
            if KEYS[7] then
              local saved = redis.call('HMGET', KEYS[7], 'fingerprint', 'id')
              if saved[1] then
                if saved[1] ~= ARGV[5] then return {'idempotency_mismatch'} end
                local pending = redis.call('HGET', KEYS[4], saved[2])
                if pending then return {'replayed', saved[2], 'held', pending} end
                local outcome = redis.call('HGET', KEYS[5], saved[2])
                -- A voided hold placed nothing: the key is free for this request.
                if outcome ~= 'void' then return {'replayed', saved[2], 'post'} end
              end
            end
            local user = redis.call('HMGET', KEYS[1], 'status', 'role')
            if user[1] ~= 'active' then return {'inactive_user'} end
            if user[2] == 'trader' or user[2] == 'admin' then return {'staff', user[2]} end
            local account = ARGV[4]
            if account == '' then
              local lowest
              for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
                if not lowest or tonumber(id) < lowest then lowest = tonumber(id) end
              end
              if not lowest then return {'no_account'} end
              account = string.format('%d', lowest)
            end
            local balance = redis.call('HGET', KEYS[2], account)
            if not balance then return {'no_account'} end
            \(notIntegerCheck)
            local refusal = notInteger(KEYS[2], account, balance)
            if refusal then return refusal end
            if not string.match(ARGV[3], '^%d+$') or #ARGV[3] > 15 or (ARGV[2] ~= 'bet' and ARGV[2] ~= 'trade') then
              return redis.error_reply('STORAGE_INVALID a hold of ' .. ARGV[3] .. ' for a ' .. ARGV[2])
            end
            local stake = tonumber(ARGV[3])
            if tonumber(balance) < stake then return {'insufficient_funds', balance} end
            \(checkTypes([(3, "stream"), (4, "hash"), (5, "hash"), (6, "list")]))
            \(redisNow)
            local after = redis.call('HINCRBY', KEYS[2], account, -stake)
            redis.call('XADD', KEYS[3], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[3],
              'balance', after, ARGV[2] .. '_id', reference)
            redis.call('HSET', KEYS[4], reference, ARGV[2] .. ':' .. account .. ':' .. ARGV[3] .. ':' .. now)
            redis.call('RPUSH', KEYS[6], reference)
            if KEYS[7] then
              redis.call('HSET', KEYS[7], 'fingerprint', ARGV[5], 'id', reference)
              redis.call('PEXPIRE', KEYS[7], ARGV[6])
            end
            return {'held', account, now}
            """)

    /// The last step of a bet or trade with money, on the user's slot (`Wallet.release`): `post` (the bet
    /// or trade exists: the hold goes, the stake stays spent) or `void` (it was refused or never placed:
    /// the stake is credited back with a `release` ledger entry naming the reference). Each hold is
    /// released once; a repeat answers how it was.
    ///
    /// KEYS: user's holds, released holds, accounts, ledger
    /// ARGV: reference, `post` | `void`
    /// Returns {'posted'} | {'voided', balance} | {'already', 'post' | 'void'} | {'no_hold'}
    /// Errors: STORAGE_INVALID (the hold record, the balance or the ledger is damaged)
    public static let releaseHold = RedisScript(
        name: "release_hold",
        source: """
            #!lua
            local reference = ARGV[1]
            local released = redis.call('HGET', KEYS[2], reference)
            if released then return {'already', released} end
            local held = redis.call('HGET', KEYS[1], reference)
            if not held then return {'no_hold'} end
            local kind, account, amount = string.match(held, '^(%a+):(%d+):(%d+):%d+$')
            if not kind or (ARGV[2] ~= 'post' and ARGV[2] ~= 'void') then
              return redis.error_reply('STORAGE_INVALID the hold ' .. reference .. ' is ' .. held .. ', asked to ' .. ARGV[2])
            end
            \(checkTypes([(2, "hash")]))
            if ARGV[2] == 'void' then
              \(notIntegerCheck)
              local balance = redis.call('HGET', KEYS[3], account)
              if not balance then return redis.error_reply('STORAGE_INVALID account ' .. account .. ' of ' .. KEYS[3] .. ' is gone') end
              local refusal = notInteger(KEYS[3], account, balance)
              if refusal then return refusal end
              \(checkTypes([(4, "stream")]))
              local after = redis.call('HINCRBY', KEYS[3], account, amount)
              redis.call('XADD', KEYS[4], '*', 'type', 'release', 'account_id', account, 'amount', amount, 'balance', after,
                kind .. '_id', reference)
              redis.call('HDEL', KEYS[1], reference)
              redis.call('HSET', KEYS[2], reference, 'void')
              return {'voided', tostring(after)}
            end
            redis.call('HDEL', KEYS[1], reference)
            redis.call('HSET', KEYS[2], reference, 'post')
            return {'posted'}
            """)

    /// Applies credits an outbox owes one user (`CreditRelay`: a won bet's payout, a void bet's stake
    /// back, a closed trade's payout), each once: the user's `credited` hash remembers each credit id with
    /// its ledger entry, so a credit delivered again (a redelivery, a second worker) changes nothing. One
    /// `HINCRBY` and one ledger entry per credit.
    ///
    /// Everything is checked before the first write: each amount is a whole number, each account of a
    /// credit still due exists and holds a whole number, the ledger is a stream; otherwise the whole call
    /// is refused (`CREDIT_INVALID`), nothing is applied, and the outbox entries wait to be retried.
    ///
    /// KEYS: user's accounts, ledger, credited
    /// ARGV: per credit: credit id, type (`payout` | `refund`), account id, amount (cents), reference field
    ///       (`bet_id` | `trade_id`), reference
    /// Returns {applied, already applied}
    /// Errors: CREDIT_INVALID
    public static let applyCredits = RedisScript(
        name: "apply_credits",
        source: """
            #!lua
            if #ARGV % 6 ~= 0 then return redis.error_reply('CREDIT_INVALID ' .. #ARGV .. ' arguments') end
            local count = #ARGV / 6
            \(checkTypes([(2, "stream"), (3, "hash")]))
            local due, seen, balances = {}, {}, {}
            for i = 0, count - 1 do
              local id, kind, account, amount, field, reference =
                ARGV[6 * i + 1], ARGV[6 * i + 2], ARGV[6 * i + 3], ARGV[6 * i + 4], ARGV[6 * i + 5], ARGV[6 * i + 6]
              if (field ~= 'bet_id' and field ~= 'trade_id') or (kind ~= 'payout' and kind ~= 'refund')
                or not string.match(amount, '^%d+$') or #amount > 15 then
                return redis.error_reply('CREDIT_INVALID ' .. id .. ': ' .. kind .. ' ' .. amount .. ' ' .. field)
              end
              if not seen[id] and redis.call('HEXISTS', KEYS[3], id) == 0 then
                if not balances[account] then
                  local balance = redis.call('HGET', KEYS[1], account)
                  if not balance or not string.match(balance, '^%-?%d+$') then
                    return redis.error_reply('CREDIT_INVALID account ' .. account .. ' of ' .. KEYS[1] .. ' has balance ' .. tostring(balance))
                  end
                  balances[account] = true
                end
                due[#due + 1] = {id, kind, account, amount, field, reference}
              end
              seen[id] = true
            end
            for _, credit in ipairs(due) do
              local balance = redis.call('HINCRBY', KEYS[1], credit[3], credit[4])
              local entry = redis.call('XADD', KEYS[2], '*', 'type', credit[2], 'account_id', credit[3], 'amount', credit[4],
                'balance', balance, credit[5], credit[6])
              redis.call('HSET', KEYS[3], credit[1], entry)
            end
            return {tostring(#due), tostring(count - #due)}
            """)
}
