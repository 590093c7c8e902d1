import RedisClient

extension Scripts {
    /// Trims the events stream below the oldest entry any consumer group still needs: for each group
    /// its lowest pending id, or with nothing pending its last delivered id. Reading the groups and
    /// trimming are one step, so no worker can read an entry between the look and the trim (as two
    /// workers could when these were separate commands, and the entry one of them had read but not
    /// acknowledged was trimmed away). Without a group nothing is trimmed.
    ///
    /// KEYS: a shard's events stream
    /// ARGV: none
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
}
