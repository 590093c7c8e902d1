import RedisClient

extension Scripts {
    /// Records an event's result and announces it on the events stream, once. The same result again
    /// changes nothing; a different one is refused. A catalogue event stops taking bets with it, and
    /// the event enters the index of unsettled events.
    ///
    /// An anonymous reporter (no token, no results key) may report only an event that carries no
    /// money. That is decided here, atomically with the report: an event carries money exactly when
    /// it is in the catalogue, because bets with money are taken only on catalogue events and a
    /// catalogue event with bets cannot be deleted (docs/ARCHITECTURE.md, "Who may report").
    ///
    /// KEYS: event hash, events stream, index of open catalogue events, index of unsettled events
    /// ARGV: result, reported_at (ms), event id, anonymous reporter ('1' or '0')
    /// Returns {'reported'} | {'unchanged'} | {'conflict', current result} | {'needs_operator'}
    public static let reportResult = RedisScript(
        name: "report_result",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue')
            if ARGV[4] == '1' and event[2] then return {'needs_operator'} end
            local current = event[1]
            if current then
              if current == ARGV[1] then return {'unchanged'} end
              return {'conflict', current}
            end
            redis.call('HSET', KEYS[1], 'result', ARGV[1], 'reported_at', ARGV[2])
            if event[2] then redis.call('ZREM', KEYS[3], event[2]) end
            redis.call('XADD', KEYS[2], '*', 'event_id', ARGV[3], 'result', ARGV[1], 'reported_at', ARGV[2])
            redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
            return {'reported'}
            """)
}
