import RedisClient

extension Scripts {
    /// Opens a batch of one symbol's pending trades at one tick, the first recorded after each was
    /// accepted: writes each trade's terms again with the tick as its start, the liquidation price and
    /// the expiry (the tick's time plus the duration), moves its status to `open`, and moves it from the
    /// symbol's pending set to its due set (by expiry), the open set of its direction (by liquidation
    /// price, 0 when it cannot be stopped out) and the symbol's open-trade terms. The stake was held
    /// when the trade was accepted, so no balance changes.
    ///
    /// The worker computes each liquidation price in Swift (exact Int128 arithmetic,
    /// `TradeMath.liquidationPrice`); the script re-verifies what the opening depends on: the tick is
    /// recorded at this price, it is the first tick with a price after the one each trade was accepted
    /// after (docs/decisions/0294-trades-open-at-the-next-tick.md), no trade is listed twice, each is
    /// this symbol's, and its liquidation price is the one its leverage gives (within a unit and a
    /// relative 2^-40 on both sides: the products pass 2^53, where Lua numbers are not exact). A trade
    /// that is no longer pending (opened by another worker or before a crash, or voided) is skipped.
    /// Anything else refuses the whole call (`BATCH_INVALID`) before its first write.
    ///
    /// Every key is the symbol's (one hash slot on Redis Cluster). The live feed is not one of them:
    /// the reply names the owners of the trades opened, and the caller appends the feed entry.
    ///
    /// KEYS: pending set, due set, open set (up), open set (down), the symbol's open-trade terms, the
    ///       symbol's tick stream, then per trade: trade hash
    /// ARGV: symbol, tick id, tick price, key prefix, then per trade: trade id, liquidation price (0: none)
    /// Returns {opened, skipped, the owners' ids of the trades opened, comma-separated}
    /// Errors: BATCH_INVALID (a key, the tick or a trade does not check out)
    public static let openTrades = RedisScript(
        name: "open_trades",
        source: """
            #!lua
            local symbol, tick, prefix = ARGV[1], ARGV[2], ARGV[4]
            local price = tonumber(ARGV[3])
            \(tickIDCompare)
            local count = (#ARGV - 4) / 2
            if count % 1 ~= 0 or #KEYS ~= 6 + count then
              return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades')
            end
            if not string.match(tick, '^%d+-%d+$') or not price or price <= 0 then
              return redis.error_reply('BATCH_INVALID tick ' .. tick .. ' at ' .. ARGV[3])
            end
            local tag = prefix .. '{sym:' .. symbol .. '}:'
            if KEYS[1] ~= tag .. 'trades:pending' or KEYS[2] ~= tag .. 'trades:due'
              or KEYS[3] ~= tag .. 'trades:open:up' or KEYS[4] ~= tag .. 'trades:open:down'
              or KEYS[5] ~= tag .. 'trades:terms' or KEYS[6] ~= tag .. 'ticks' then
              return redis.error_reply('BATCH_INVALID the keys are not those of ' .. symbol)
            end
            for k, wanted in ipairs({'zset', 'zset', 'zset', 'zset', 'hash', 'stream'}) do
              local kind = redis.call('TYPE', KEYS[k]).ok
              if kind ~= wanted and kind ~= 'none' then return redis.error_reply('BATCH_INVALID ' .. KEYS[k] .. ' is a ' .. kind) end
            end
            local function priceOf(entry)
              for f = 1, #entry[2], 2 do
                if entry[2][f] == 'price' then return tonumber(entry[2][f + 1]) end
              end
            end
            local recorded = redis.call('XRANGE', KEYS[6], tick, tick)
            if #recorded ~= 1 or priceOf(recorded[1]) ~= price then
              return redis.error_reply('BATCH_INVALID tick ' .. tick .. ' is not recorded at ' .. ARGV[3])
            end
            -- Whether `tick` is the first tick with a price after `after`: the ticks between them (normally
            -- none) have none. Answered once per `after`.
            local firstAfter = {}
            local function opensAt(after)
              if firstAfter[after] == nil then
                local between = redis.call('XRANGE', KEYS[6], '(' .. after, tick, 'COUNT', 100)
                local ok = #between > 0 and #between < 100 and between[#between][1] == tick
                for e = 1, #between - 1 do
                  local other = priceOf(between[e])
                  if other and other > 0 then ok = false end
                end
                firstAfter[after] = ok
              end
              return firstAfter[after]
            end
            local function invalid(id, reason) return redis.error_reply('BATCH_INVALID trade ' .. id .. ' ' .. reason) end
            local opening, listed, skipped = {}, {}, 0
            for i = 1, count do
              local id, liquidation = ARGV[2 * i + 3], tonumber(ARGV[2 * i + 4])
              if listed[id] then return invalid(id, 'is listed twice in one call') end
              listed[id] = true
              if string.sub(id, 1, #symbol + 1) ~= symbol .. '~' or KEYS[6 + i] ~= tag .. 'trade:' .. string.sub(id, #symbol + 2) then
                return invalid(id, 'is not at ' .. KEYS[6 + i])
              end
              local t = redis.call('HMGET', KEYS[6 + i], 'status', '\(Trade.Terms.field)')
              if t[1] ~= 'pending' then
                skipped = skipped + 1
              else
                local ok, owner, account, on, direction, stake, leverage, duration, _, _, _, _, created, _, afterTime, afterSequence =
                  pcall(cmsgpack.unpack, t[2] or '')
                if not ok or not afterSequence or (direction ~= 'up' and direction ~= 'down') then
                  return invalid(id, 'has malformed terms')
                end
                if on ~= symbol then return invalid(id, 'is on ' .. tostring(on)) end
                local after = string.format('%d-%d', afterTime, afterSequence)
                if not before(after, tick) or not opensAt(after) then
                  return invalid(id, 'was accepted after ' .. after .. ', so ' .. tick .. ' is not its first tick')
                end
                if not liquidation then return invalid(id, 'has no liquidation price') end
                if direction == 'up' and leverage == 1 then
                  if liquidation ~= 0 then return invalid(id, 'cannot be stopped out at leverage 1') end
                else
                  local exact = price * (direction == 'up' and leverage - 1 or leverage + 1) / leverage
                  local slack = 1 + exact * 2 ^ -40
                  if liquidation < exact - slack or liquidation > exact + slack
                    or (direction == 'up' and liquidation > price) or (direction == 'down' and liquidation < price) then
                    return invalid(id, 'has liquidation price ' .. ARGV[2 * i + 4] .. ', not ' .. string.format('%.0f', exact))
                  end
                end
                opening[#opening + 1] = {id, KEYS[6 + i], owner, account, direction, stake, leverage, duration, created,
                  afterTime, afterSequence, liquidation}
              end
            end
            local tickTime, tickSequence = string.match(tick, '^(%d+)-(%d+)$')
            tickTime, tickSequence = tonumber(tickTime), tonumber(tickSequence)
            local owners, seen = {}, {}
            for _, o in ipairs(opening) do
              local id, key, owner, account, direction, stake, leverage, duration, created, afterTime, afterSequence, liquidation = unpack(o)
              local expires = tickTime + duration * 1000
              local terms = cmsgpack.pack(owner, account, symbol, direction, stake, leverage, duration, tickTime, tickSequence, price,
                liquidation, created, expires, afterTime, afterSequence)
              redis.call('HSET', key, 'status', 'open', '\(Trade.Terms.field)', terms)
              redis.call('HSET', KEYS[5], id, terms)
              redis.call('ZADD', KEYS[2], expires, id)
              redis.call('ZADD', direction == 'up' and KEYS[3] or KEYS[4], liquidation, id)
              redis.call('ZREM', KEYS[1], id)
              if not seen[owner] then
                seen[owner] = true
                owners[#owners + 1] = owner
              end
            end
            return {#opening, skipped, table.concat(owners, ',')}
            """)
}
