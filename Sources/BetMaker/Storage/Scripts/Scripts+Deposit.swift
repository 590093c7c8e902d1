import RedisClient

/// A deposit in two single-slot steps (`AccountStore.deposit`): the transaction id, the signature and
/// the account's owner claimed on `{g}`, then the credit on the user's slot. A crash between them
/// leaves a claim without its credit: the provider delivers again until it is answered, and the
/// delivery that finds its own claim goes on to the credit, which is made once.
extension Scripts {
    /// Step 1, on `{g}`: claims the transaction id for this user, account and amount, the delivery's
    /// signature for this transaction, and the account for the user (created here, with the account
    /// id counter raised past it, when no one owns it yet). A transaction id claimed before with the
    /// same values answers `claimed` again (the caller goes on to step 2, which answers a credit made
    /// before); with other values it is a `conflict` and changes nothing.
    ///
    /// A delivery's signature (lower-case hex) is kept with the transaction it was accepted for: the
    /// brief's signature does not sign the borders between the values, so a delivery with digits moved
    /// between them carries the same signature, and that signature, accepted for another transaction,
    /// is refused (`signature_reused`).
    ///
    /// Only a registered user (in the users index) is credited: an orphan of a registration cut short
    /// stays unreachable.
    ///
    /// KEYS: payment claim, account owners, users, account id counter [, the signature's record]
    /// ARGV: transaction id, user id, account id, amount (cents), time (ms)
    /// Returns {'claimed', account created (0|1)} | {'conflict', user id, account id, amount} |
    ///   {'signature_reused', transaction id} | {'no_user'} | {'foreign_account', owner}
    /// Errors: STORAGE_INVALID (the account id counter is not a whole number)
    public static let claimPayment = RedisScript(
        name: "claim_payment",
        source: """
            #!lua
            local saved = redis.call('HMGET', KEYS[1], 'user_id', 'account_id', 'amount', 'account_created')
            if saved[1] then
              if saved[1] == ARGV[2] and saved[2] == ARGV[3] and saved[3] == ARGV[4] then return {'claimed', saved[4]} end
              return {'conflict', saved[1], saved[2], saved[3]}
            end
            if KEYS[5] then
              local accepted = redis.call('GET', KEYS[5])
              if accepted and accepted ~= ARGV[1] then return {'signature_reused', accepted} end
            end
            if not redis.call('ZSCORE', KEYS[3], ARGV[2]) then return {'no_user'} end
            local owner = redis.call('HGET', KEYS[2], ARGV[3])
            if owner and owner ~= ARGV[2] then return {'foreign_account', owner} end
            \(notIntegerCheck)
            local highest = redis.call('GET', KEYS[4])
            local refusal = notInteger(KEYS[4], 'value', highest)
            if refusal then return refusal end
            local created = '0'
            if not owner then
              redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
              if tonumber(highest or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[4], ARGV[3]) end
              created = '1'
            end
            redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'account_id', ARGV[3], 'amount', ARGV[4], 'account_created', created,
              'claimed_at', ARGV[5])
            if KEYS[5] then redis.call('SET', KEYS[5], ARGV[1]) end
            return {'claimed', created}
            """)

    /// Step 2, on the user's slot: credits a claimed payment once: credits the balance (the account
    /// starts from 0 when step 1 created it) and records the deposit transaction and the payment
    /// record. A payment recorded before changes nothing and answers the first outcome.
    ///
    /// Every write that Redis could refuse is checked before the first one (a ledger that is no stream,
    /// a balance that is no whole number, a balance the credit would take past 2^53 − 1 cents, where
    /// the scripts' arithmetic stops being exact): such a refusal is an error reply (`STORAGE_INVALID`,
    /// `LIMIT`), and nothing is written.
    ///
    /// KEYS: payment record, user's accounts, user's ledger
    /// ARGV: transaction id, user id, account id, amount (cents), time (ms), account created (0|1)
    /// Returns {'credited' | 'replayed', user id, account id, amount, balance after, ledger entry id,
    ///   credited_at, account created (0|1)}
    /// Errors: STORAGE_INVALID, LIMIT
    public static let deposit = RedisScript(
        name: "deposit",
        source: """
            #!lua
            local fields = {'user_id', 'account_id', 'amount', 'balance', 'entry', 'credited_at', 'account_created'}
            local saved = redis.call('HMGET', KEYS[1], unpack(fields))
            if saved[1] then return {'replayed', unpack(saved)} end
            \(notIntegerCheck)
            local balance = redis.call('HGET', KEYS[2], ARGV[3])
            local refusal = notInteger(KEYS[2], ARGV[3], balance)
            if refusal then return refusal end
            \(checkTypes([(3, "stream")]))
            if tonumber(balance or '0') + tonumber(ARGV[4]) > \(largestExact) then
              return redis.error_reply('LIMIT account ' .. ARGV[3] .. ' would hold more than 2^53 - 1 cents')
            end
            local after = string.format('%d', redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4]))
            local entry = redis.call('XADD', KEYS[3], '*', 'type', 'deposit', 'account_id', ARGV[3], 'amount', ARGV[4],
              'balance', after, 'transaction_id', ARGV[1])
            local record = {ARGV[2], ARGV[3], ARGV[4], after, entry, ARGV[5], ARGV[6]}
            local changes = {}
            for i, field in ipairs(fields) do
              changes[#changes + 1] = field
              changes[#changes + 1] = record[i]
            end
            redis.call('HSET', KEYS[1], unpack(changes))
            return {'credited', unpack(record)}
            """)
}
