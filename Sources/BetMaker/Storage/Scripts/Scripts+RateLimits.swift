import RedisClient

extension Scripts {
    /// `local now, full, wait`: one token of a token bucket (`RateLimit`) kept as GCRA's one number, the
    /// time (ms, Redis's clock) at which the bucket is full again. A request at `now` finds
    /// `full - now` of debt; it may go when the debt leaves room for one more token within the burst,
    /// else `wait` (ms, > 0) says how long until it would. `full` is the value to store if it goes:
    /// `SET key full PX full-now` (at least 1 ms: Redis refuses `PX 0`), which also makes the key vanish
    /// once the bucket is full again. One number per bucket and no refill loop: a bucket costs one
    /// string key, whatever its size.
    ///
    /// `key` is a Lua expression naming the key; `interval` the ms per token; `tolerance` the burst's
    /// slack, (burst - 1) * interval.
    static func tokenBucket(_ key: String, interval: String, tolerance: String) -> String {
        """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local full = math.max(tonumber(redis.call('GET', \(key)) or '0') or 0, now)
        local wait = full - now - tonumber(\(tolerance))
        full = full + tonumber(\(interval))
        """
    }

    /// Takes one token from a client's bucket (`RateLimits`).
    ///
    /// KEYS: the bucket (`RedisKeys.rateBucket`)
    /// ARGV: ms per token, burst tolerance (ms)
    /// Returns 0 when the request may go, else the ms until it may
    public static let takeToken = RedisScript(
        name: "take_token",
        source: """
            #!lua
            \(tokenBucket("KEYS[1]", interval: "ARGV[1]", tolerance: "ARGV[2]"))
            if wait > 0 then return math.ceil(wait) end
            redis.call('SET', KEYS[1], string.format('%.0f', full), 'PX', string.format('%.0f', math.max(1, math.ceil(full - now))))
            return 0
            """)

    /// Lets a login attempt check its password, counted before the check so that parallel guesses get
    /// no more checks than the limits between them. Two limits, both of the login's keys (one hash
    /// slot): the client's attempts since its last success within the lockout window (refused once
    /// `max` are used, until the window ends), and a bucket of the login's failures from all clients
    /// together, which an attempt borrows from and a success gives back (`end_login_attempt`). A locked
    /// client borrows nothing, so a locked attacker cannot drain the login's bucket any further.
    ///
    /// KEYS: the client's attempts at the login, the login's failure bucket
    /// ARGV: max attempts of a client, lockout window (ms), ms per failure token, burst tolerance (ms)
    /// Returns {'ok', attempts of the client, this one included} | {'locked', ms left} | {'throttled', ms until one may go}
    public static let beginLoginAttempt = RedisScript(
        name: "begin_login_attempt",
        source: """
            #!lua
            local attempts = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
            if attempts >= tonumber(ARGV[1]) then
              local left = redis.call('PTTL', KEYS[1])
              if left < 0 then left = tonumber(ARGV[2]) end
              return {'locked', left}
            end
            \(tokenBucket("KEYS[2]", interval: "ARGV[3]", tolerance: "ARGV[4]"))
            if wait > 0 then return {'throttled', math.ceil(wait)} end
            redis.call('SET', KEYS[2], string.format('%.0f', full), 'PX', string.format('%.0f', math.max(1, math.ceil(full - now))))
            attempts = redis.call('INCR', KEYS[1])
            if attempts == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
            return {'ok', attempts}
            """)

    /// Ends a login attempt that `begin_login_attempt` let through and that did not fail: `succeeded`
    /// (the right password) starts the client's count again; `unchecked` (the password was never
    /// checked, e.g. the hashing pool was full) takes back just this attempt. Both give the login's
    /// bucket its token back.
    ///
    /// KEYS: the client's attempts at the login, the login's failure bucket
    /// ARGV: 'succeeded' | 'unchecked', ms per failure token
    /// Returns 1
    public static let endLoginAttempt = RedisScript(
        name: "end_login_attempt",
        source: """
            #!lua
            if ARGV[1] == 'succeeded' then
              redis.call('DEL', KEYS[1])
            elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
              redis.call('DECR', KEYS[1])
            end
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
            local full = (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) - tonumber(ARGV[2])
            if full > now then
              redis.call('SET', KEYS[2], string.format('%.0f', full), 'PX', string.format('%.0f', math.max(1, math.ceil(full - now))))
            else
              redis.call('DEL', KEYS[2])
            end
            return 1
            """)
}
