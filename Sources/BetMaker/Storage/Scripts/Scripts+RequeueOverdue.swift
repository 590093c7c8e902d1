import RedisClient

extension Scripts {
    /// Queues again the events among the given ones that still have a result without `settled_at`
    /// and were reported (or last queued again) at least `threshold` ago: a new stream entry each,
    /// and `requeued_at` in the event hash, so each is queued at most once per threshold. An event
    /// no longer in the index (settled or parked meanwhile) is left alone; one in the index that is
    /// settled or has no result is taken out of it.
    ///
    /// KEYS: a shard's events stream and index of unsettled events, the hashes of events of the shard...
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
}
