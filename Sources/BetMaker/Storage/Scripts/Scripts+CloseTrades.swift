import RedisClient

extension Scripts {
    /// Closes a batch of one symbol's trades at one tick: stopped out (the tick reached their
    /// liquidation price) or at expiry (the tick is the first at or after it). For each trade it moves
    /// the status and records the outcome (`Trade.outcomeField`: how it closed, `settled_at`, profit, the
    /// tick's id and price) in one `HSET` of two fields, appends a payout above zero to the symbol's
    /// credits outbox (`RedisKeys.tradeCredits`: the worker's credit relay pays it into the owner's
    /// account, on the owner's slot, once), and removes the trade from the symbol's due and open sets and
    /// from its open-trade terms (`RedisKeys.openTradeTerms`). Every key is the symbol's: one hash slot
    /// on Redis Cluster.
    ///
    /// The worker computes each profit in Swift (exact Int128 arithmetic, `TradeMath`) from the trade's
    /// terms (`Trade.Terms`, immutable) and the tick; the script reads the batch's terms in one `HMGET`
    /// of the symbol's open-trade terms, which hold a trade exactly while it is open, derives the payout
    /// (stake + profit, never negative) and the status (won, lost or even by the profit's sign), and
    /// re-verifies what the outcome depends on: no trade is listed twice (it would be paid twice); the
    /// trade is this symbol's, its start tick comes before this tick, an expiry close is due at the
    /// tick's time and its profit is the one the terms and the tick give (`TradeMath.profit`: exactly
    /// while the products stay below 2^53, else within a cent and a relative 2^-40 on both sides), a
    /// stop-out's tick reaches the liquidation price and pays nothing, the keys are the trade's. A trade
    /// that is no longer open was closed already (by another worker, or before a crash) and is skipped:
    /// that is what makes a retry or a second worker harmless, and what keeps its credit to one entry.
    ///
    /// Redis does not roll a script back, so everything the writes need is read and checked before the
    /// first one: each closing trade's hash says `open`, the sets and the outbox are what they should be.
    /// Anything wrong refuses the whole batch (`BATCH_INVALID`, naming the trade where there is one) with
    /// nothing written, so the trades' state and their credits are written together or not at all.
    ///
    /// The live feed is not the symbol's: the reply names the owners of the trades closed, and the
    /// caller appends one feed entry for the call (as `settle_batch`'s caller does for bets).
    ///
    /// KEYS: due set, open set (up), open set (down), the symbol's open-trade terms, the symbol's credits
    ///       outbox, then per trade: trade hash
    /// ARGV: symbol, tick id, tick price, key prefix, close ('expiry'|'stop_out'), then per trade: trade
    ///       id, profit (cents)
    /// Returns {closed, skipped, paid out (cents), the owners' ids of the trades closed, comma-separated}
    /// Errors: BATCH_INVALID (a key, a trade or an outcome does not check out)
    public static let closeTrades = RedisScript(
        name: "close_trades",
        source: """
            #!lua
            local symbol, tick, price, prefix, close = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
            local tickTime, tickSequence = string.match(tick, '^(%d+)-(%d+)$')
            tickTime, tickSequence, price = tonumber(tickTime), tonumber(tickSequence), tonumber(price)
            if not tickTime or not price then return redis.error_reply('BATCH_INVALID tick ' .. tick .. ' at ' .. ARGV[3]) end
            -- Numbers from text the patterns checked: `+ 0` converts once, `tonumber` twice.
            local function before(time, sequence)
              time = time + 0
              return time < tickTime or (time == tickTime and sequence + 0 < tickSequence)
            end
            local count = (#ARGV - 5) / 2
            if close ~= 'expiry' and close ~= 'stop_out' then return redis.error_reply('BATCH_INVALID close by ' .. close) end
            if count % 1 ~= 0 or #KEYS ~= 5 + count then
              return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades')
            end
            local tag = prefix .. '{sym:' .. symbol .. '}:'
            if KEYS[1] ~= tag .. 'trades:due' or KEYS[2] ~= tag .. 'trades:open:up' or KEYS[3] ~= tag .. 'trades:open:down'
              or KEYS[4] ~= tag .. 'trades:terms' or KEYS[5] ~= tag .. 'credits' then
              return redis.error_reply('BATCH_INVALID the keys are not those of ' .. symbol)
            end
            local outbox = redis.call('TYPE', KEYS[5]).ok
            if outbox ~= 'stream' and outbox ~= 'none' then return redis.error_reply('BATCH_INVALID the credits outbox is a ' .. outbox) end
            for k = 1, 3 do
              local set = redis.call('TYPE', KEYS[k]).ok
              if set ~= 'zset' and set ~= 'none' then return redis.error_reply('BATCH_INVALID ' .. KEYS[k] .. ' is a ' .. set) end
            end
            local function invalid(id, reason) return redis.error_reply('BATCH_INVALID trade ' .. id .. ' ' .. reason) end
            local tradePrefix = tag .. 'trade:'
            \(tradeTerms)
            -- Whether `gain` is the profit `TradeMath.profit` gives: floor(stake × leverage × (end − start)
            -- / start), its sign flipped for 'down', at least −stake and at most the maximum profit. Exact
            -- while the products stay below 2^53 (Lua numbers are doubles); beyond, the double quotient is
            -- within a relative 2^-50 of the true one, so the bound allows that much on both sides.
            local maximumProfit = \(TradeMath.maximumProfit.cents)
            local function isProfit(gain, stake, leverage, direction, start)
              if gain < -stake or gain > maximumProfit then return false end
              local numerator = stake * leverage * (direction == 'up' and price - start or start - price)
              if math.abs(numerator) < 2 ^ 53 and (math.abs(gain) + 1) * start < 2 ^ 53 then
                local low, high = gain * start, (gain + 1) * start
                if gain == -stake then return numerator < high end
                if gain == maximumProfit then return numerator >= low end
                return low <= numerator and numerator < high
              end
              local quotient = numerator / start
              local bounded, slack = math.min(math.max(quotient, -stake), maximumProfit), math.abs(quotient) * 2 ^ -40
              return gain <= bounded + slack and gain >= bounded - 1 - slack
            end
            -- The owners met, once each, for the caller's feed entry.
            local seen, owners = {}, {}
            -- What the checks found, in flat arrays: the trade's position i, its direction, owner,
            -- account, status and payout.
            local closing, directions, owned, accounts, statuses, payouts = {}, {}, {}, {}, {}, {}
            -- One command per key, with at most 1,000 members each (unpack's stack is bounded).
            local function inChunks(command, key, members, replies)
              for first = 1, #members, 1000 do
                local reply = redis.call(command, key, unpack(members, first, math.min(first + 999, #members)))
                if replies then
                  for k, value in ipairs(reply) do replies[first + k - 1] = value end
                end
              end
              return replies
            end
            local ids, listed = {}, {}
            for i = 1, count do
              local id = ARGV[2 * i + 4]
              if listed[id] then return invalid(id, 'is listed twice in one call') end
              listed[id], ids[i] = true, id
            end
            -- The batch's terms in one read: a trade that is not there is closed.
            local openTerms = inChunks('HMGET', KEYS[4], ids, {})
            for i = 1, count do
              local a, key = 2 * i + 4, KEYS[5 + i]
              local id, profit = ARGV[a], ARGV[a + 1]
              if string.sub(id, 1, #symbol + 1) ~= symbol .. '~' or key ~= tradePrefix .. string.sub(id, #symbol + 2) then
                return invalid(id, 'is not at ' .. key)
              end
              local terms = openTerms[i]
              if terms then
                local owner, account, on, direction, stake, startTime, startSequence, liquidation, expires, leverage, start = tradeTerms(terms)
                if not owner or type(owner) ~= 'string' or type(account) ~= 'string' then return invalid(id, 'has malformed terms') end
                if on ~= symbol then return invalid(id, 'is on ' .. on) end
                if not before(startTime, startSequence) then
                  return invalid(id, 'started at ' .. startTime .. '-' .. startSequence .. ', not before ' .. tick)
                end
                if not string.match(profit, '^%-?%d+$') then return invalid(id, 'profit ' .. profit) end
                local gain = profit + 0
                local payout = stake + gain
                if payout < 0 then return invalid(id, 'loses ' .. profit .. ', more than its stake ' .. stake) end
                if close == 'expiry' then
                  if expires + 0 > tickTime then return invalid(id, 'expires at ' .. expires .. ', after ' .. tick) end
                  if not isProfit(gain, stake, leverage, direction, start) then
                    return invalid(id, 'makes ' .. profit .. ', not what its terms give at ' .. ARGV[3])
                  end
                else
                  liquidation = liquidation + 0
                  local reached = (direction == 'up' and liquidation > 0 and price <= liquidation)
                    or (direction == 'down' and price >= liquidation)
                  if not reached or payout ~= 0 then return invalid(id, 'is not stopped out at ' .. ARGV[3]) end
                end
                -- The hash takes the outcome: it says open, as the terms do.
                local status = redis.pcall('HGET', key, 'status')
                if status ~= 'open' then
                  return invalid(id, 'is open in the terms, but ' .. key .. ' is ' .. (type(status) == 'string' and status or 'no trade'))
                end
                if not seen[owner] then
                  seen[owner] = true
                  owners[#owners + 1] = owner
                end
                local n = #closing + 1
                closing[n], directions[n], owned[n], accounts[n], payouts[n] = i, direction, owner, account, payout
                statuses[n] = gain > 0 and 'won' or (gain < 0 and 'lost' or 'even')
              end
            end
            -- The writes: nothing from here on can be refused. Each payout above zero goes to the outbox
            -- (text, not numbers: Redis turns a number argument into text with `%.17g`, a slow path).
            for n, i in ipairs(closing) do
              local payout = payouts[n]
              if payout ~= 0 then
                local id = ARGV[2 * i + 4]
                redis.call('XADD', KEYS[5], '*', 'type', 'payout', 'credit_id', 'trade:' .. id, 'user_id', owned[n],
                  'account_id', accounts[n], 'amount', string.format('%d', payout), 'trade_id', id)
              end
            end
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: the parts before and after the profit are the call's.
            local head, tail = close .. ' ' .. now .. ' ', ' ' .. tick .. ' ' .. ARGV[3]
            local paid = 0
            local closed, up, down = {}, {}, {}
            for n, i in ipairs(closing) do
              local id = ARGV[2 * i + 4]
              redis.call('HSET', KEYS[5 + i], 'status', statuses[n], '\(Trade.outcomeField)', head .. ARGV[2 * i + 5] .. tail)
              closed[n] = id
              if directions[n] == 'up' then up[#up + 1] = id else down[#down + 1] = id end
              paid = paid + payouts[n]
            end
            inChunks('ZREM', KEYS[1], closed)
            inChunks('ZREM', KEYS[2], up)
            inChunks('ZREM', KEYS[3], down)
            inChunks('HDEL', KEYS[4], closed)
            return {#closing, count - #closing, paid, table.concat(owners, ',')}
            """)
}
