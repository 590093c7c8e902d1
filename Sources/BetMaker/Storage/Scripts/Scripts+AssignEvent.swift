import RedisClient

extension Scripts {
    /// Assigns an event to a trader (an administrator's call): from `open`, or from `assigned` to
    /// another trader (re-assigning one nobody took yet). The trader must be an active user with the
    /// trader role, checked in the same step so a role taken away meanwhile cannot slip through, and
    /// must hold no bet on the event (`take_event` would refuse them).
    ///
    /// KEYS: event hash, the trader's user hash, event's bettors
    /// ARGV: trader's user id, time (ms)
    /// Returns {'assigned'} | {'unchanged'} (already assigned to that trader) | {'wrong_state', state} |
    ///   {'not_a_trader'} | {'holds_bet'}
    public static let assignEvent = RedisScript(
        name: "assign_event",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'state', 'trader_id')
            \(eventState("current", result: "event[1]", state: "event[2]"))
            if current ~= 'open' and current ~= 'assigned' then return {'wrong_state', current} end
            local trader = redis.call('HMGET', KEYS[2], 'role', 'status')
            if trader[1] ~= 'trader' or trader[2] ~= 'active' then return {'not_a_trader'} end
            if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'holds_bet'} end
            if current == 'assigned' and event[3] == ARGV[1] then return {'unchanged'} end
            redis.call('HSET', KEYS[1], 'state', 'assigned', 'trader_id', ARGV[1], 'assigned_at', ARGV[2])
            return {'assigned'}
            """)
}
