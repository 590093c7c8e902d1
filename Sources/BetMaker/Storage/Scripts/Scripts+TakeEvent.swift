import RedisClient

extension Scripts {
    /// A trader takes an event into work: an `open` event is a pool any trader may take, an `assigned`
    /// one only its trader. Scripts run one at a time, so of two traders taking one event at once the
    /// first makes it `in_progress` and the second finds it so (`wrong_state`). Taking again an event
    /// one already holds changes nothing, so a retry after an unknown outcome is safe.
    ///
    /// A trader who holds a bet on the event (placed before they got the role: traders do not bet) may
    /// not take it: `place_wallet_bet` keeps the event's bettors beside its hash, so this is checked in
    /// the event's own slot.
    ///
    /// Whether the taker is an active trader (ARGV[3]) the caller read from the user's hash just
    /// before: a user's keys are in another slot (docs/decisions/0302).
    ///
    /// KEYS: event hash, event's bettors
    /// ARGV: taker's user id, time (ms), the taker is an active trader ('1' or '0')
    /// Returns {'taken'} | {'unchanged'} | {'not_yours', state} | {'wrong_state', state} | {'not_a_trader'} |
    ///   {'holds_bet'}
    public static let takeEvent = RedisScript(
        name: "take_event",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'state', 'trader_id')
            \(eventState("current", result: "event[1]", state: "event[2]"))
            if ARGV[3] ~= '1' then return {'not_a_trader'} end
            if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'holds_bet'} end
            if current == 'in_progress' and event[3] == ARGV[1] then return {'unchanged'} end
            if current == 'assigned' and event[3] ~= ARGV[1] then return {'not_yours', current} end
            if current ~= 'open' and current ~= 'assigned' then return {'wrong_state', current} end
            redis.call('HSET', KEYS[1], 'state', 'in_progress', 'trader_id', ARGV[1], 'taken_at', ARGV[2])
            return {'taken'}
            """)
}
