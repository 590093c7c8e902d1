import RedisClient

extension Scripts {
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
}
