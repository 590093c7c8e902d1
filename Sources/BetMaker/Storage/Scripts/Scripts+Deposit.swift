import RedisClient

extension Scripts {
    /// Credits a payment from the provider once per transaction id: creates the account for the user
    /// if it does not exist, credits the balance and records the deposit transaction. A transaction id
    /// seen before changes nothing and answers the first outcome (or a conflict, if the delivery
    /// disagrees with it).
    ///
    /// KEYS: payment, account owners, user hash, user's accounts, user's ledger, account id counter
    /// ARGV: transaction id, user id, account id, amount (cents), time (ms)
    /// Returns {'credited' | 'replayed' | 'conflict', user id, account id, amount, balance after,
    ///   ledger entry id, credited_at, account created (0|1)} | {'no_user'} | {'foreign_account', owner}
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
            if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_user'} end
            local owner = redis.call('HGET', KEYS[2], ARGV[3])
            if owner and owner ~= ARGV[2] then return {'foreign_account', owner} end
            local created = '0'
            if not owner then
              redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
              redis.call('HSET', KEYS[4], ARGV[3], 0)
              if tonumber(redis.call('GET', KEYS[6]) or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[6], ARGV[3]) end
              created = '1'
            end
            local balance = redis.call('HINCRBY', KEYS[4], ARGV[3], ARGV[4])
            local entry = redis.call('XADD', KEYS[5], '*', 'type', 'deposit', 'account_id', ARGV[3], 'amount', ARGV[4],
              'balance', balance, 'transaction_id', ARGV[1])
            local record = {ARGV[2], ARGV[3], ARGV[4], tostring(balance), entry, ARGV[5], created}
            local changes = {}
            for i, field in ipairs(fields) do
              changes[#changes + 1] = field
              changes[#changes + 1] = record[i]
            end
            redis.call('HSET', KEYS[1], unpack(changes))
            return {'credited', unpack(record)}
            """)
}
