import RedisClient

/// Registration in two single-slot steps (`AccountStore.register`): the user on their own slot, then
/// the login and the global indexes on `{g}`. A crash between them leaves a user hash that no login
/// names and no index lists: unreachable, and harmless.
extension Scripts {
    /// Step 1, on the user's slot: writes the user with a first account of balance 0, unless a user
    /// with this id exists (a counter was reset: the caller draws another id).
    ///
    /// KEYS: user hash, user's accounts
    /// ARGV: login, password hash, role, status, created_at (ms), account id
    /// Returns {'created'} | {'id_taken'}
    public static let createUser = RedisScript(
        name: "create_user",
        source: """
            #!lua
            if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {'id_taken'} end
            redis.call('HSET', KEYS[1], 'login', ARGV[1], 'password', ARGV[2], 'role', ARGV[3], 'status', ARGV[4],
              'created_at', ARGV[5])
            if ARGV[4] == 'active' then redis.call('HSET', KEYS[1], 'activated_at', ARGV[5]) end
            redis.call('HSET', KEYS[2], ARGV[6], 0)
            return {'created'}
            """)

    /// Step 2, on `{g}`: claims the login (in any case) and the first account for the user written in
    /// step 1, lists the user, and keeps the activation token's digest (a user created active gets
    /// none). Refused when the login is taken or a payment created an account with this id: the
    /// caller then removes what step 1 wrote.
    ///
    /// KEYS: logins, users, account owners [, activation token]
    /// ARGV: user id, login in lower case, account id [, activation ttl (ms)]
    /// Returns {'claimed'} | {'login_taken', existing user id} | {'account_taken'}
    public static let claimLogin = RedisScript(
        name: "claim_login",
        source: """
            #!lua
            local existing = redis.call('HGET', KEYS[1], ARGV[2])
            if existing then return {'login_taken', existing} end
            if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return {'account_taken'} end
            redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
            redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
            redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
            if KEYS[4] then redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[4]) end
            return {'claimed'}
            """)
}
