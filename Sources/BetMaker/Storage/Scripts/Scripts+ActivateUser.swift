import RedisClient

extension Scripts {
    /// Activates a user whose activation token was read on `{g}` (`AccountStore.activate`, which
    /// deletes the token afterwards, whatever the outcome). Only a user waiting for activation becomes
    /// active; a disabled one stays disabled.
    ///
    /// KEYS: user hash
    /// ARGV: activated_at (ms)
    /// Returns {'activated'} | {'already_active'} | {'disabled'} | {'invalid'}
    public static let activateUser = RedisScript(
        name: "activate_user",
        source: """
            #!lua
            local status = redis.call('HGET', KEYS[1], 'status')
            if status == 'pending' then
              redis.call('HSET', KEYS[1], 'status', 'active', 'activated_at', ARGV[1])
              return {'activated'}
            end
            if status == 'active' then return {'already_active'} end
            if status == 'disabled' then return {'disabled'} end
            return {'invalid'}
            """)
}
