import RedisClient

extension Scripts {
    /// Records one price tick of a symbol: appends it to the symbol's tick stream (the entry id,
    /// Redis's clock, is the tick's identity and time) and makes it the latest quote, in one step, so
    /// the quote always names a tick that exists. The stream is capped, but never below the ticks the
    /// worker has not processed yet (those after the symbol's cursor): processing needs every one.
    ///
    /// KEYS: quote hash, tick stream, tick cursor
    /// ARGV: price (units of 1e-8 USD), source, cap (entries)
    /// Returns the tick id.
    public static let recordTick = RedisScript(
        name: "record_tick",
        source: """
            #!lua
            local id = redis.call('XADD', KEYS[2], '*', 'price', ARGV[1], 'source', ARGV[2])
            local time = string.match(id, '^(%d+)-')
            redis.call('HSET', KEYS[1], 'price', ARGV[1], 'tick', id, 'time', time, 'source', ARGV[2])
            if redis.call('XLEN', KEYS[2]) > tonumber(ARGV[3]) then
              local cursor = redis.call('GET', KEYS[3])
              if cursor then redis.call('XTRIM', KEYS[2], 'MINID', '~', cursor) end
            end
            return id
            """)

    /// Moves a symbol's tick cursor forward to a processed tick; never back, so two workers that
    /// process the same ticks cannot undo each other's progress.
    ///
    /// KEYS: tick cursor
    /// ARGV: tick id
    /// Returns the cursor after the call.
    public static let advanceTickCursor = RedisScript(
        name: "advance_tick_cursor",
        source: """
            #!lua
            \(tickIDCompare)
            local current = redis.call('GET', KEYS[1])
            if not current or before(current, ARGV[1]) then
              redis.call('SET', KEYS[1], ARGV[1])
              return ARGV[1]
            end
            return current
            """)

    /// `before(a, b)`: true when stream id `a` comes before `b` (ids are `<ms>-<seq>`; their text does
    /// not sort like their numbers).
    static let tickIDCompare = """
        local function before(a, b)
          local am, as = string.match(a, '^(%d+)-(%d+)$')
          local bm, bs = string.match(b, '^(%d+)-(%d+)$')
          am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
          return am < bm or (am == bm and as < bs)
        end
        """
}
