import RedisClient

extension Scripts {
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
}
