import RedisClient

extension Scripts {
    /// The ESP answered an outbox message: acknowledges it and, for a create whose contact still
    /// exists, records the contact as synced (and known to the ESP), in one step.
    ///
    /// KEYS: outbox, contact
    /// ARGV: group, entry id, op, time (ms), attempts
    /// Returns the number of entries acknowledged (0 or 1)
    public static let outboxDelivered = RedisScript(
        name: "outbox_delivered",
        source: """
            #!lua
            if ARGV[3] == 'create' and redis.call('EXISTS', KEYS[2]) == 1 then
              redis.call('HSET', KEYS[2], 'sync', 'synced', 'in_esp', '1', 'synced_at', ARGV[4], 'attempts', ARGV[5])
              redis.call('HDEL', KEYS[2], 'last_error')
            end
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    /// A delivery failed and may succeed later: the message waits in the retry set until `ARGV[3]`
    /// (not in the stream, so it holds up no other message), the contact records the attempt, and the
    /// entry is acknowledged, in one step. `outbox_release` puts it back in the stream when due.
    ///
    /// KEYS: outbox, retries, contact
    /// ARGV: group, entry id, due (ms), op, hash, attempts so far, error
    /// Returns the number of entries acknowledged (0 or 1)
    public static let outboxRetryLater = RedisScript(
        name: "outbox_retry_later",
        source: """
            #!lua
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[2])
            if redis.call('EXISTS', KEYS[3]) == 1 then
              redis.call('HSET', KEYS[3], 'attempts', ARGV[6], 'last_error', ARGV[7])
            end
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    /// Gives up on a message: copies it to the outbox's dead-letter stream, marks the contact
    /// `failed` with the reason, and acknowledges it, in one step.
    ///
    /// KEYS: outbox, dead letters, contact
    /// ARGV: group, entry id, op, hash, attempts, reason, dead-letter max length
    /// Returns the number of entries acknowledged (0 or 1)
    public static let outboxDeadLetter = RedisScript(
        name: "outbox_dead_letter",
        source: """
            #!lua
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'entry_id', ARGV[2], 'op', ARGV[3], 'hash', ARGV[4],
              'attempts', ARGV[5], 'reason', ARGV[6])
            if ARGV[3] == 'create' and redis.call('EXISTS', KEYS[3]) == 1 then
              redis.call('HSET', KEYS[3], 'sync', 'failed', 'attempts', ARGV[5], 'last_error', ARGV[6])
            end
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    /// Moves the messages whose retry is due back into the outbox stream, at most `ARGV[2]`, in one
    /// step (each leaves the retry set in the call that appends it, so none is lost or doubled).
    ///
    /// KEYS: retries, outbox
    /// ARGV: now (ms), limit
    /// Returns how many were moved
    public static let outboxRelease = RedisScript(
        name: "outbox_release",
        source: """
            #!lua
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
            for _, member in ipairs(due) do
              local op, hash, attempt = string.match(member, '^(%S+) (%S+) (%S+) ')
              if op then redis.call('XADD', KEYS[2], '*', 'op', op, 'hash', hash, 'attempt', attempt) end
              redis.call('ZREM', KEYS[1], member)
            end
            return #due
            """)
}
