import RedisClient

extension Scripts {
    /// Moves a stream entry the workers gave up on to the dead-letter stream and acknowledges it, in
    /// one step, so it is neither lost nor handled again. An entry given up on after too many
    /// deliveries "parks" its event (unless it is settled meanwhile): the event leaves the index of
    /// unsettled events, so the worker does not queue it again and again, and its hash names the
    /// dead letter (`parked`) until an administrator re-drives it (`retry_dead_letter`).
    ///
    /// KEYS: a shard's events stream, its dead-letter stream [, its index of unsettled events, the hash of
    ///       an event of the shard (to park)]
    /// ARGV: group, entry id, reason, deliveries, dead-letter max length, event id to park or '',
    ///       then the entry's field/value pairs
    /// Returns the number of entries acknowledged (0 or 1)
    public static let deadLetter = RedisScript(
        name: "dead_letter",
        source: """
            #!lua
            local park = ARGV[6] ~= '' and KEYS[4] ~= nil
            local settled = park and redis.call('HGET', KEYS[4], 'settled_at')
            local fields = {'entry_id', ARGV[2], 'reason', ARGV[3], 'deliveries', ARGV[4]}
            for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
            local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
            if park and not settled then
              redis.call('ZREM', KEYS[3], ARGV[6])
              redis.call('HSET', KEYS[4], 'parked', id)
            end
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)
}
