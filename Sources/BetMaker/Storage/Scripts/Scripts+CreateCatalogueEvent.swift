import RedisClient

extension Scripts {
    /// Adds an event to the catalogue, unless it is there already or has a result.
    ///
    /// KEYS: event hash, the event's shard's catalogue and open catalogue
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
}
