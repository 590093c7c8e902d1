import RedisClient

extension Scripts {
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
}
