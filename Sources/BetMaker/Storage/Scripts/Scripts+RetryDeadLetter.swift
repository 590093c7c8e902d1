import RedisClient

extension Scripts {
    /// Re-drives a dead letter: re-reads it, checks that it is well formed and that its result is the
    /// event's recorded one, appends a new entry to the events stream with the original fields and
    /// `redriven_from` (the original entry's id), deletes the dead letter, and puts the event back in
    /// the index of unsettled events (unless it is settled), no longer parked. The caller reads the
    /// dead letter first to learn its event's key; the script checks that key against the entry.
    ///
    /// The dead letter's shard holds its stream, events stream, index and the event: one slot.
    ///
    /// KEYS: the shard's dead-letter stream, events stream and index of unsettled events, event hash
    /// ARGV: dead-letter id, event id, now (ms), the shard's event key opening (`bm:{sh:<n>}:{ev:`)
    /// Returns {'retried', new entry id} | {'missing'} | {'malformed'} | {'no_result'} |
    ///   {'result_mismatch', recorded result}
    public static let retryDeadLetter = RedisScript(
        name: "retry_dead_letter",
        source: """
            #!lua
            local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
            if #found == 0 then return {'missing'} end
            local values = found[1][2]
            if values[1] ~= 'entry_id' or values[3] ~= 'reason' or values[5] ~= 'deliveries' then return {'malformed'} end
            local original, fields = {}, {}
            for i = 7, #values - 1, 2 do
              if values[i] ~= 'redriven_from' and values[i] ~= 'requeued_at' then
                original[values[i]] = values[i + 1]
                fields[#fields + 1] = values[i]
                fields[#fields + 1] = values[i + 1]
              end
            end
            if original['event_id'] ~= ARGV[2] or KEYS[4] ~= ARGV[4] .. ARGV[2] .. '}' then return {'malformed'} end
            local result = original['result']
            if result ~= 'WIN' and result ~= 'LOSE' and result ~= 'VOID' then return {'malformed'} end
            local event = redis.call('HMGET', KEYS[4], 'result', 'settled_at', 'reported_at')
            if not event[1] then return {'no_result'} end
            if event[1] ~= result then return {'result_mismatch', event[1]} end
            local score = tonumber(event[3]) and event[3] or ARGV[3]
            fields[#fields + 1] = 'redriven_from'
            fields[#fields + 1] = values[2]
            local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
            redis.call('XDEL', KEYS[1], ARGV[1])
            if not event[2] then
              redis.call('ZADD', KEYS[3], score, ARGV[2])
              redis.call('HSET', KEYS[4], 'requeued_at', ARGV[3])
              redis.call('HDEL', KEYS[4], 'parked')
            end
            return {'retried', id}
            """)
}
