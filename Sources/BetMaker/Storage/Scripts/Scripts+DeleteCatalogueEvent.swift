import RedisClient

extension Scripts {
    /// Removes an event from the catalogue, only while nobody has bet on it.
    ///
    /// KEYS: event hash, event bet list, the event's shard's catalogue and open catalogue
    /// ARGV: the catalogue's field names
    /// Returns {'deleted'} | {'missing'} | {'has_bets', count}
    public static let deleteCatalogueEvent = RedisScript(
        name: "delete_catalogue_event",
        source: """
            #!lua
            local member = redis.call('HGET', KEYS[1], 'catalogue')
            if not member then return {'missing'} end
            local bets = redis.call('LLEN', KEYS[2])
            if bets > 0 then return {'has_bets', bets} end
            redis.call('HDEL', KEYS[1], 'catalogue', 'open', unpack(ARGV))
            redis.call('ZREM', KEYS[3], member)
            redis.call('ZREM', KEYS[4], member)
            return {'deleted'}
            """)
}
