import RedisClient

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
}
