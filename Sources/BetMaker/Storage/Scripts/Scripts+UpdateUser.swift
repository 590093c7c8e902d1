import RedisClient

extension Scripts {
    /// Changes a user (administrators): enables or disables them, and gives or takes the trader role.
    /// Enabling a user who never activated activates them. An administrator's role is not changed
    /// here: administrators are made by the seed, and one cannot be demoted by another over the API.
    /// Both changes are checked before either is written. The traders index, on `{g}`, is kept by the
    /// caller around this step (`AccountStore.update`).
    ///
    /// KEYS: user hash
    /// ARGV: '1' to enable | '0' to disable | '' to leave, time (ms), 'trader' | 'player' | '' to leave
    /// Returns {'updated'} | {'missing'} | {'admin_role'}
    public static let updateUser = RedisScript(
        name: "update_user",
        source: """
            #!lua
            local user = redis.call('HMGET', KEYS[1], 'status', 'role', 'activated_at')
            if not user[1] then return {'missing'} end
            if ARGV[3] ~= '' and user[2] == 'admin' then return {'admin_role'} end
            if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'role', ARGV[3]) end
            if ARGV[1] == '1' then
              if user[1] ~= 'active' then redis.call('HSET', KEYS[1], 'status', 'active') end
              if not user[3] then redis.call('HSET', KEYS[1], 'activated_at', ARGV[2]) end
            elseif ARGV[1] == '0' then
              redis.call('HSET', KEYS[1], 'status', 'disabled')
            end
            return {'updated'}
            """)
}
