import RedisClient

/// The scripts of users, wallets, payments and the event catalogue. Like every script of bet-maker,
/// each is one atomic step that checks everything before it writes and touches only keys in KEYS.
extension Scripts {
    /// Creates a user with a first account of balance 0, unless the login (in any case) is taken.
    /// A user who must activate gets an activation token that expires; one made active (the seed
    /// command) gets none.
    ///
    /// KEYS: logins, user hash, users, user's accounts, account owners [, activation token]
    /// ARGV: user id, login in lower case, login, password hash, role, status, created_at (ms),
    ///       account id [, activation ttl (ms)]
    /// Returns {'created'} | {'login_taken', existing user id} | {'id_taken'} | {'account_taken'}
    public static let registerUser = RedisScript(
        name: "register_user",
        source: """
            #!lua
            local existing = redis.call('HGET', KEYS[1], ARGV[2])
            if existing then return {'login_taken', existing} end
            if redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
            if redis.call('HEXISTS', KEYS[5], ARGV[8]) == 1 then return {'account_taken'} end
            redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
            redis.call('HSET', KEYS[2], 'login', ARGV[3], 'password', ARGV[4], 'role', ARGV[5], 'status', ARGV[6],
              'created_at', ARGV[7])
            if ARGV[6] == 'active' then redis.call('HSET', KEYS[2], 'activated_at', ARGV[7]) end
            redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1])
            redis.call('HSET', KEYS[4], ARGV[8], 0)
            redis.call('HSET', KEYS[5], ARGV[8], ARGV[1])
            if KEYS[6] then redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[9]) end
            return {'created'}
            """)

    /// Activates a user with a single-use token: the token is gone afterwards, whatever the outcome.
    /// Only a user waiting for activation becomes active; a disabled one stays disabled.
    ///
    /// KEYS: activation token, user hash
    /// ARGV: user id the token named when read, activated_at (ms)
    /// Returns {'activated'} | {'already_active'} | {'disabled'} | {'invalid'}
    public static let activateUser = RedisScript(
        name: "activate_user",
        source: """
            #!lua
            if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'invalid'} end
            redis.call('DEL', KEYS[1])
            local status = redis.call('HGET', KEYS[2], 'status')
            if status == 'pending' then
              redis.call('HSET', KEYS[2], 'status', 'active', 'activated_at', ARGV[2])
              return {'activated'}
            end
            if status == 'active' then return {'already_active'} end
            if status == 'disabled' then return {'disabled'} end
            return {'invalid'}
            """)

    /// Enables or disables a user (administrators). Enabling a user who never activated activates them.
    ///
    /// KEYS: user hash
    /// ARGV: '1' to enable | '0' to disable, time (ms)
    /// Returns {'updated', status} | {'missing'}
    public static let setUserActive = RedisScript(
        name: "set_user_active",
        source: """
            #!lua
            local status = redis.call('HGET', KEYS[1], 'status')
            if not status then return {'missing'} end
            if ARGV[1] == '1' then
              if status ~= 'active' then redis.call('HSET', KEYS[1], 'status', 'active') end
              if not redis.call('HGET', KEYS[1], 'activated_at') then redis.call('HSET', KEYS[1], 'activated_at', ARGV[2]) end
              return {'updated', 'active'}
            end
            redis.call('HSET', KEYS[1], 'status', 'disabled')
            return {'updated', 'disabled'}
            """)

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

    /// Counts a login attempt before its password is checked; a successful login deletes the count,
    /// and it expires a window after the first attempt. Counting first and comparing after (rather
    /// than reading, checking, then counting a failure) means that parallel guesses each get their own
    /// number, so no more than the limit of them are ever checked.
    ///
    /// KEYS: login attempts of the login
    /// ARGV: window (ms)
    /// Returns {attempts within the window, this one included; milliseconds left of the window}
    public static let countLoginAttempt = RedisScript(
        name: "count_login_attempt",
        source: """
            #!lua
            local attempts = redis.call('INCR', KEYS[1])
            if attempts == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return {attempts, redis.call('PTTL', KEYS[1])}
            """)

    /// Adds an event to the catalogue, unless it is there already or has a result.
    ///
    /// KEYS: event hash, catalogue, open catalogue
    /// ARGV: catalogue member, open ('1'|'0'), then the catalogue's field/value pairs
    /// Returns {'created'} | {'exists'} | {'closed', result}
    public static let createCatalogueEvent = RedisScript(
        name: "create_catalogue_event",
        source: """
            #!lua
            local state = redis.call('HMGET', KEYS[1], 'catalogue', 'result')
            if state[1] then return {'exists'} end
            if state[2] then return {'closed', state[2]} end
            local changes = {'catalogue', ARGV[1], 'open', ARGV[2]}
            for i = 3, #ARGV do changes[#changes + 1] = ARGV[i] end
            redis.call('HSET', KEYS[1], unpack(changes))
            redis.call('ZADD', KEYS[2], 0, ARGV[1])
            if ARGV[2] == '1' then redis.call('ZADD', KEYS[3], 0, ARGV[1]) end
            return {'created'}
            """)

    /// Changes a catalogue event's fields. An event with a result cannot be opened again. The indexes
    /// follow its start time and whether it takes bets.
    ///
    /// KEYS: event hash, catalogue, open catalogue
    /// ARGV: new catalogue member or '' (start time unchanged), new open state or '', then the
    ///       field/value pairs to set
    /// Returns {'updated'} | {'missing'} | {'closed', result}
    public static let updateCatalogueEvent = RedisScript(
        name: "update_catalogue_event",
        source: """
            #!lua
            local state = redis.call('HMGET', KEYS[1], 'catalogue', 'result', 'open')
            if not state[1] then return {'missing'} end
            if ARGV[2] == '1' and state[2] then return {'closed', state[2]} end
            local member = state[1]
            local changes = {}
            for i = 3, #ARGV do changes[#changes + 1] = ARGV[i] end
            if ARGV[1] ~= '' then
              redis.call('ZREM', KEYS[2], member)
              redis.call('ZREM', KEYS[3], member)
              member = ARGV[1]
              changes[#changes + 1] = 'catalogue'
              changes[#changes + 1] = member
              redis.call('ZADD', KEYS[2], 0, member)
            end
            local open = state[3]
            if ARGV[2] ~= '' then
              open = ARGV[2]
              changes[#changes + 1] = 'open'
              changes[#changes + 1] = open
            end
            if #changes > 0 then redis.call('HSET', KEYS[1], unpack(changes)) end
            if open == '1' and not state[2] then redis.call('ZADD', KEYS[3], 0, member) else redis.call('ZREM', KEYS[3], member) end
            return {'updated'}
            """)

    /// Removes an event from the catalogue, only while nobody has bet on it.
    ///
    /// KEYS: event hash, event bet list, catalogue, open catalogue
    /// ARGV: the catalogue's field names
    /// Returns {'deleted'} | {'missing'} | {'has_bets', count}
    public static let deleteCatalogueEvent = RedisScript(
        name: "delete_catalogue_event",
        source: """
            #!lua
            local member = redis.call('HGET', KEYS[1], 'catalogue')
            if not member then return {'missing'} end
            local bets = redis.call('LLEN', KEYS[2])
            if bets > 0 then return {'has_bets', bets} end
            redis.call('HDEL', KEYS[1], 'catalogue', 'open', unpack(ARGV))
            redis.call('ZREM', KEYS[3], member)
            redis.call('ZREM', KEYS[4], member)
            return {'deleted'}
            """)

    static var walletScripts: [RedisScript] {
        [
            registerUser, activateUser, setUserActive, deposit, countLoginAttempt, createCatalogueEvent, updateCatalogueEvent,
            deleteCatalogueEvent,
        ]
    }
}
