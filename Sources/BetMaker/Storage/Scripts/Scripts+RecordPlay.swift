import RedisClient

extension Scripts {
    /// Counts one play of an address. A known address: its play count goes up by one (and a token's
    /// user is linked if none is yet). An unknown one without an ESP answer (`ARGV[2]` empty): nothing
    /// changes, the caller asks the ESP and calls again. An unknown one with the answer: the contact is
    /// recorded with one play and, unless the ESP holds it already, a `create` message is appended to
    /// the outbox, in the same step; so of many concurrent first plays exactly one records the contact
    /// and queues its creation, and the others count as plays of a known address.
    ///
    /// KEYS: contact, contacts index, outbox
    /// ARGV: address (stored form), in_esp ('' not asked yet, '1', '0', '?' unknown), user id or '',
    ///       subscriber hash
    /// Returns {'known', plays, in_esp ('1' | '0' | '')} | {'new', 1, in_esp} | {'unknown'}
    public static let recordPlay = RedisScript(
        name: "record_play",
        source: """
            #!lua
            local stored = redis.call('HMGET', KEYS[1], 'plays', 'in_esp')
            if stored[1] then
              local plays = redis.call('HINCRBY', KEYS[1], 'plays', 1)
            \(redisNow)
              redis.call('HSET', KEYS[1], 'last_played_at', now)
              if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'user_id', ARGV[3]) end
              return {'known', plays, stored[2] or ''}
            end
            if ARGV[2] == '' then return {'unknown'} end
            \(redisNow)
            local inEsp = ARGV[2]
            if inEsp == '?' then inEsp = '' end
            local sync = 'pending'
            if inEsp == '1' then sync = 'synced' end
            redis.call('HSET', KEYS[1], 'email', ARGV[1], 'plays', 1, 'in_esp', inEsp, 'created_at', now, 'last_played_at', now,
              'sync', sync, 'attempts', 0)
            if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'user_id', ARGV[3]) end
            redis.call('ZADD', KEYS[2], 0, ARGV[1])
            if inEsp ~= '1' then redis.call('XADD', KEYS[3], '*', 'op', 'create', 'hash', ARGV[4], 'attempt', 0) end
            return {'new', 1, inEsp}
            """)

    /// Erases a contact here and queues its erasure at the ESP, in one step. The outbox message names
    /// the subscriber hash only, so after this no copy of the address is left in Redis.
    ///
    /// KEYS: contact, contacts index, outbox
    /// ARGV: subscriber hash
    /// Returns 1 when erased, 0 when there was no such contact
    public static let eraseContact = RedisScript(
        name: "erase_contact",
        source: """
            #!lua
            local email = redis.call('HGET', KEYS[1], 'email')
            if not email then return 0 end
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], email)
            redis.call('XADD', KEYS[3], '*', 'op', 'erase', 'hash', ARGV[1], 'attempt', 0)
            return 1
            """)
}
