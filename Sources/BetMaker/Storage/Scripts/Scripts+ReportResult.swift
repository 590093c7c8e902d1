import RedisClient

extension Scripts {
    /// Records an event's result and announces it on the events stream, once. The same result again
    /// changes nothing; a different one is refused, and so is any result of a void event. A catalogue
    /// event stops taking bets with it, and the event enters the index of unsettled events.
    ///
    /// An anonymous reporter (no token, no results key) may report only an event that carries no
    /// money. That is decided here, atomically with the report: an event carries money exactly when
    /// it is in the catalogue, because bets with money are taken only on catalogue events and a
    /// catalogue event with bets cannot be deleted (docs/ARCHITECTURE.md, "Who may report").
    ///
    /// A trader (ARGV[5]) may report only an event they took: it is theirs (`not_yours` otherwise) and
    /// `in_progress` (`wrong_state` otherwise), checked in the same step as the report, so a void or
    /// another report in between cannot be overtaken. Administrators and the results feed report from
    /// any state before `resulted`. Whether the trader is an active trader (ARGV[6]) the caller read
    /// from the user's hash just before: a user's keys are in another slot (docs/decisions/0302).
    ///
    /// Every key is in the event's shard (`{sh:<n>}`): one slot on Redis Cluster.
    ///
    /// KEYS: event hash, the shard's events stream, open catalogue index and index of unsettled events
    /// ARGV: result, reported_at (ms), event id, anonymous reporter ('1' or '0'), trader's user id or '',
    ///       the trader is an active trader ('1' or '0')
    /// Returns {'reported'} | {'unchanged'} | {'conflict', current result} | {'needs_operator'} |
    ///   {'wrong_state', state} | {'not_yours', state} | {'not_a_trader'}
    public static let reportResult = RedisScript(
        name: "report_result",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'state', 'trader_id')
            if ARGV[4] == '1' and event[2] then return {'needs_operator'} end
            \(eventState("state", result: "event[1]", state: "event[3]"))
            if ARGV[5] ~= '' then
              if ARGV[6] ~= '1' then return {'not_a_trader'} end
              if event[4] ~= ARGV[5] then return {'not_yours', state} end
              if state ~= 'in_progress' and state ~= 'resulted' then return {'wrong_state', state} end
            end
            local current = event[1]
            if current then
              if current == 'VOID' then return {'wrong_state', state} end
              if current == ARGV[1] then return {'unchanged'} end
              return {'conflict', current}
            end
            \(recordResult(result: "ARGV[1]", at: "ARGV[2]", eventID: "ARGV[3]", member: "event[2]"))
            return {'reported'}
            """)
}
