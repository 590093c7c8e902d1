import RedisClient

extension Scripts {
    /// Assigns an event to a trader (an administrator's call): from `open`, or from `assigned` to
    /// another trader (re-assigning one nobody took yet). The trader must be an active user with the
    /// trader role (ARGV[3], read by the caller from the user's hash just before: a user's keys are in
    /// another slot, docs/decisions/0302), and must hold no bet on the event (`take_event` would refuse
    /// them), checked here in the event's slot.
    ///
    /// KEYS: event hash, event's bettors
    /// ARGV: trader's user id, time (ms), the trader is an active trader ('1' or '0')
    /// Returns {'assigned'} | {'unchanged'} (already assigned to that trader) | {'wrong_state', state} |
    ///   {'not_a_trader'} | {'holds_bet'}
    public static let assignEvent = RedisScript(
        name: "assign_event",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'state', 'trader_id')
            \(eventState("current", result: "event[1]", state: "event[2]"))
            if current ~= 'open' and current ~= 'assigned' then return {'wrong_state', current} end
            if ARGV[3] ~= '1' then return {'not_a_trader'} end
            if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'holds_bet'} end
            if current == 'assigned' and event[3] == ARGV[1] then return {'unchanged'} end
            redis.call('HSET', KEYS[1], 'state', 'assigned', 'trader_id', ARGV[1], 'assigned_at', ARGV[2])
            return {'assigned'}
            """)
}
