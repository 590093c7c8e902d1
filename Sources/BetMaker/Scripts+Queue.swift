import RedisClient

/// The scripts that keep the events stream a queue nobody's result falls out of: trimming only what
/// every consumer group is done with, queueing again the events left unsettled, and re-driving a
/// dead letter (docs/ARCHITECTURE.md, "The stream protocol").
extension Scripts {
    /// Trims the events stream below the oldest entry any consumer group still needs: for each group
    /// its lowest pending id, or with nothing pending its last delivered id. Reading the groups and
    /// trimming are one step, so no worker can read an entry between the look and the trim (as two
    /// workers could when these were separate commands, and the entry one of them had read but not
    /// acknowledged was trimmed away). Without a group nothing is trimmed.
    ///
    /// KEYS: events stream
    /// Returns the number of entries trimmed
    public static let trimStream = RedisScript(
        name: "trim_stream",
        source: """
            #!lua
            if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
            -- Stream ids compared as numbers: <milliseconds>-<sequence>, digits without leading zeros.
            local function before(left, right)
              local leftTime, leftSequence = string.match(left, '^(%d+)-(%d+)$')
              local rightTime, rightSequence = string.match(right, '^(%d+)-(%d+)$')
              if #leftTime ~= #rightTime then return #leftTime < #rightTime end
              if leftTime ~= rightTime then return leftTime < rightTime end
              if #leftSequence ~= #rightSequence then return #leftSequence < #rightSequence end
              return leftSequence < rightSequence
            end
            local bound
            for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
              local info = {}
              for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
              local oldest = info['last-delivered-id']
              local pending = redis.call('XPENDING', KEYS[1], info['name'])
              if pending[1] > 0 then oldest = pending[2] end
              if not bound or before(oldest, bound) then bound = oldest end
            end
            if not bound or bound == '0-0' then return 0 end
            return redis.call('XTRIM', KEYS[1], 'MINID', bound)
            """)

    /// Queues again the events among the given ones that still have a result without `settled_at`
    /// and were reported (or last queued again) at least `threshold` ago: a new stream entry each,
    /// and `requeued_at` in the event hash, so each is queued at most once per threshold. An event
    /// no longer in the index (settled or parked meanwhile) is left alone; one in the index that is
    /// settled or has no result is taken out of it.
    ///
    /// KEYS: events stream, index of unsettled events, event hashes...
    /// ARGV: now (ms), threshold (ms), the event ids (one per event hash, in the same order)
    /// Returns {ids queued again, number of index members removed}
    public static let requeueOverdue = RedisScript(
        name: "requeue_overdue",
        source: """
            #!lua
            local now = tonumber(ARGV[1])
            local threshold = tonumber(ARGV[2])
            local due, gone = {}, {}
            for i = 3, #KEYS do
              if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
                local event = redis.call('HMGET', KEYS[i], 'result', 'settled_at', 'reported_at', 'requeued_at')
                if not event[1] or event[2] then
                  gone[#gone + 1] = ARGV[i]
                elseif now - (tonumber(event[4] or event[3] or '0') or 0) >= threshold then
                  due[#due + 1] = {i, event[1], event[3]}
                end
              end
            end
            for _, id in ipairs(gone) do redis.call('ZREM', KEYS[2], id) end
            local requeued = {}
            for _, item in ipairs(due) do
              local fields = {'event_id', ARGV[item[1]], 'result', item[2]}
              if item[3] then fields[#fields + 1] = 'reported_at'; fields[#fields + 1] = item[3] end
              fields[#fields + 1] = 'requeued_at'
              fields[#fields + 1] = ARGV[1]
              redis.call('XADD', KEYS[1], '*', unpack(fields))
              redis.call('HSET', KEYS[item[1]], 'requeued_at', ARGV[1])
              requeued[#requeued + 1] = ARGV[item[1]]
            end
            return {requeued, #gone}
            """)

    /// Re-drives a dead letter: re-reads it, checks that it is well formed and that its result is the
    /// event's recorded one, appends a new entry to the events stream with the original fields and
    /// `redriven_from` (the original entry's id), deletes the dead letter, and puts the event back in
    /// the index of unsettled events (unless it is settled), no longer parked. The caller reads the
    /// dead letter first to learn its event's key; the script checks that key against the entry.
    ///
    /// KEYS: dead-letter stream, events stream, index of unsettled events, event hash
    /// ARGV: dead-letter id, event id, now (ms), key prefix
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
            if original['event_id'] ~= ARGV[2] or KEYS[4] ~= ARGV[4] .. '{ev:' .. ARGV[2] .. '}' then return {'malformed'} end
            local result = original['result']
            if result ~= 'WIN' and result ~= 'LOSE' then return {'malformed'} end
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

    static var queueScripts: [RedisScript] { [trimStream, requeueOverdue, retryDeadLetter] }
}
