import RedisClient

extension Scripts {
    /// Voids an event (an administrator's call) from any state before `resulted`: records the result
    /// VOID with the reason and queues it for settlement exactly as `report_result` queues a result
    /// (the same snippet), so the worker voids its bets and refunds their stakes through the same
    /// stream and batches. Because VOID is a result, the guards that already exist refuse what a void
    /// event must not take, atomically: `place_bet` and `place_wallet_bet` refuse an event with a result,
    /// and `report_result` any other result. Voiding again changes nothing (the first reason stays).
    ///
    /// KEYS: event hash, the event's shard's events stream, open catalogue index and index of unsettled events
    /// ARGV: time (ms), event id, reason
    /// Returns {'voided'} | {'unchanged'} | {'wrong_state', state}
    public static let voidEvent = RedisScript(
        name: "void_event",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue')
            if event[1] == 'VOID' then return {'unchanged'} end
            if event[1] then return {'wrong_state', 'resulted'} end
            redis.call('HSET', KEYS[1], 'voided_at', ARGV[1], 'void_reason', ARGV[3])
            \(recordResult(result: "'VOID'", at: "ARGV[1]", eventID: "ARGV[2]", member: "event[2]"))
            return {'voided'}
            """)
}
