import RedisClient

extension Scripts {
    /// Credits a payment from the provider once per transaction id: creates the account for the user
    /// if it does not exist, credits the balance and records the deposit transaction. A transaction id
    /// seen before changes nothing and answers the first outcome (or a conflict, if the delivery
    /// disagrees with it).
    ///
    /// A delivery's signature (lower-case hex), when it has one, is recorded with the transaction it was
    /// accepted for, in the same step: the brief's signature does not sign the borders between the
    /// values, so a delivery with digits moved between them carries the same signature, and that
    /// signature, already accepted for another transaction, is refused (`signature_reused`). A
    /// delivery with the same transaction id but other values is the `conflict` above.
    ///
    /// Every write that Redis could refuse is checked before the first one (a ledger that is no stream,
    /// a balance or counter that is no whole number, a balance the credit would take past 2^53 − 1
    /// cents, where the scripts' arithmetic stops being exact): such a refusal is an error reply
    /// (`STORAGE_INVALID`, `LIMIT`), and nothing is written.
    ///
    /// KEYS: payment, account owners, user hash, user's accounts, user's ledger, account id counter
    ///       [, the signature's record (`RedisKeys.paymentSignature`)]
    /// ARGV: transaction id, user id, account id, amount (cents), time (ms)
    /// Returns {'credited' | 'replayed' | 'conflict', user id, account id, amount, balance after,
    ///   ledger entry id, credited_at, account created (0|1)} | {'signature_reused', transaction id} |
    ///   {'no_user'} | {'foreign_account', owner}
    /// Errors: STORAGE_INVALID (a key or value the writes need is not what the scripts write there), LIMIT
    public static let deposit = RedisScript(
        name: "deposit",
        source: """
            #!lua
            local fields = {'user_id', 'account_id', 'amount', 'balance', 'entry', 'credited_at', 'account_created'}
            local saved = redis.call('HMGET', KEYS[1], unpack(fields))
            if saved[1] then
              local same = saved[1] == ARGV[2] and saved[2] == ARGV[3] and saved[3] == ARGV[4]
              return {same and 'replayed' or 'conflict', unpack(saved)}
            end
            if KEYS[7] then
              local accepted = redis.call('GET', KEYS[7])
              if accepted and accepted ~= ARGV[1] then return {'signature_reused', accepted} end
            end
            if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_user'} end
            local owner = redis.call('HGET', KEYS[2], ARGV[3])
            if owner and owner ~= ARGV[2] then return {'foreign_account', owner} end
            \(notIntegerCheck)
            -- An account in the owners' index has its balance; a new one starts from none.
            local balance = redis.call('HGET', KEYS[4], ARGV[3])
            if owner and not balance then return redis.error_reply('STORAGE_INVALID ' .. KEYS[4] .. ' has no account ' .. ARGV[3]) end
            local highest = redis.call('GET', KEYS[6])
            local refusal = notInteger(KEYS[4], ARGV[3], balance) or notInteger(KEYS[6], 'value', highest)
            if refusal then return refusal end
            \(checkTypes([(5, "stream")]))
            if tonumber(balance or '0') + tonumber(ARGV[4]) > \(largestExact) then
              return redis.error_reply('LIMIT account ' .. ARGV[3] .. ' would hold more than 2^53 - 1 cents')
            end
            local created = '0'
            if not owner then
              redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
              if tonumber(highest or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[6], ARGV[3]) end
              created = '1'
            end
            local after = string.format('%d', redis.call('HINCRBY', KEYS[4], ARGV[3], ARGV[4]))
            local entry = redis.call('XADD', KEYS[5], '*', 'type', 'deposit', 'account_id', ARGV[3], 'amount', ARGV[4],
              'balance', after, 'transaction_id', ARGV[1])
            local record = {ARGV[2], ARGV[3], ARGV[4], after, entry, ARGV[5], created}
            local changes = {}
            for i, field in ipairs(fields) do
              changes[#changes + 1] = field
              changes[#changes + 1] = record[i]
            end
            redis.call('HSET', KEYS[1], unpack(changes))
            if KEYS[7] then redis.call('SET', KEYS[7], ARGV[1]) end
            return {'credited', unpack(record)}
            """)
}
