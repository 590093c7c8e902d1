import RedisClient

extension Scripts {
    /// Changes a catalogue event's fields. An event with a result cannot be opened again. The indexes
    /// follow its start time and whether it takes bets.
    ///
    /// KEYS: event hash, the event's shard's catalogue and open catalogue
    /// ARGV: new catalogue member or '' (start time unchanged), new open state or '', then the
    ///       field/value pairs to set
    /// Returns {'updated'} | {'missing'} | {'closed', result}
    public static let updateCatalogueEvent = RedisScript(
        name: "update_catalogue_event",
        source: """
            #!lua
            local state = redis.call('HMGET', KEYS[1], 'catalogue', 'result', 'open')
            if not state[1] then return {'missing'} end
            if ARGV[2] == '1' and state[2] then return {'closed', state[2]} end
            local member = state[1]
            local changes = {}
            for i = 3, #ARGV do changes[#changes + 1] = ARGV[i] end
            if ARGV[1] ~= '' then
              redis.call('ZREM', KEYS[2], member)
              redis.call('ZREM', KEYS[3], member)
              member = ARGV[1]
              changes[#changes + 1] = 'catalogue'
              changes[#changes + 1] = member
              redis.call('ZADD', KEYS[2], 0, member)
            end
            local open = state[3]
            if ARGV[2] ~= '' then
              open = ARGV[2]
              changes[#changes + 1] = 'open'
              changes[#changes + 1] = open
            end
            if #changes > 0 then redis.call('HSET', KEYS[1], unpack(changes)) end
            if open == '1' and not state[2] then redis.call('ZADD', KEYS[3], 0, member) else redis.call('ZREM', KEYS[3], member) end
            return {'updated'}
            """)
}
