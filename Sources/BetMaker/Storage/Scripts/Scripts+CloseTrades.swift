import RedisClient

extension Scripts {
    /// Closes a batch of one symbol's trades at one tick: stopped out (the tick reached their
    /// liquidation price) or at expiry (the tick is the first at or after it). For each trade it moves
    /// the status and records the outcome (`Trade.outcomeField`: how it closed, `settled_at`, profit, the
    /// tick's id and price) in one `HSET` of two fields, credits a payout above zero to the trade's
    /// account with a payout transaction naming the trade, and removes the trade from the symbol's due
    /// and open sets.
    ///
    /// The worker computes each profit in Swift (exact Int128 arithmetic, `TradeMath`) from the trade's
    /// terms (`Trade.Terms`, immutable) and the tick; the script reads each trade's status and terms in
    /// one `HMGET` (a trade stored before the packed terms: its separate fields), derives the payout
    /// (stake + profit, never negative) and the status (won, lost or even by the profit's sign), and
    /// re-verifies what the outcome depends on:
    /// the trade is this symbol's, its start tick comes before this tick, an expiry close is due at the
    /// tick's time, a stop-out's tick reaches the liquidation price and pays nothing, the keys are the
    /// trade's and its owner's. A trade that is no longer
    /// open was closed already (by another worker, or before a crash) and is skipped: that is what
    /// makes a retry or a second worker harmless. Anything else wrong refuses the whole batch before
    /// the first write (`BATCH_INVALID`), as Redis does not roll a script back.
    ///
    /// A call that closes trades appends ONE entry to the live feed (`RedisKeys.feed`, capped), in the
    /// same step: `type` `trades`, the symbol, the tick and its price, and the ids of the users whose
    /// trades it closed, so the API can tell those players' browsers without a write per trade (as
    /// `settle_batch` does for bets).
    ///
    /// KEYS: due set, open set (up), open set (down), the feed, then per trade: trade hash, user's accounts,
    ///       user's ledger
    /// ARGV: symbol, tick id, tick price, key prefix, close ('expiry'|'stop_out'), the feed's length cap, then
    ///       per trade: trade id, profit (cents)
    /// Returns {closed, skipped, paid out (cents)}
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
            local count = (#ARGV - 6) / 2
            if close ~= 'expiry' and close ~= 'stop_out' then return redis.error_reply('BATCH_INVALID close by ' .. close) end
            if #KEYS ~= 4 + 3 * count then return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades') end
            if KEYS[1] ~= prefix .. 'trades:due:' .. symbol or KEYS[2] ~= prefix .. 'trades:open:' .. symbol .. ':up'
              or KEYS[3] ~= prefix .. 'trades:open:' .. symbol .. ':down' then
              return redis.error_reply('BATCH_INVALID the sets are not those of ' .. symbol)
            end
            local feed = redis.call('TYPE', KEYS[4]).ok
            if feed ~= 'stream' and feed ~= 'none' then return redis.error_reply('BATCH_INVALID the feed is a ' .. feed) end
            local function invalid(id, reason) return redis.error_reply('BATCH_INVALID trade ' .. id .. ' ' .. reason) end
            local tradePrefix, userPrefix = prefix .. 'trade:', prefix .. '{u:'
            \(tradeTerms)
            -- What the checks found, in flat arrays (the trade's position i, its direction, account,
            -- status and payout), the keys and accounts already checked, so a user's many trades
            -- check them once, and the owners (once each) for the feed entry.
            local closing, directions, accounts, statuses, payouts, checked, owned, owners, seen = {}, {}, {}, {}, {}, {}, {}, {}, {}
            for i = 1, count do
              local a, k = 2 * i + 4, 3 * i + 1
              local id, profit = ARGV[a + 1], ARGV[a + 2]
              if KEYS[k + 1] ~= tradePrefix .. id then return invalid(id, 'is not at ' .. KEYS[k + 1]) end
              local t = redis.call('HMGET', KEYS[k + 1], 'status', '\(Trade.Terms.field)')
              if t[1] == 'open' then
                local owner, account, on, direction, stake, startTime, startSequence, liquidation, expires = tradeTerms(KEYS[k + 1], t[2])
                if not owner then return invalid(id, 'has malformed terms') end
                if on ~= symbol then return invalid(id, 'is on ' .. on) end
                if not before(startTime, startSequence) then
                  return invalid(id, 'started at ' .. startTime .. '-' .. startSequence .. ', not before ' .. tick)
                end
                -- A user's many trades in a batch name the same two keys: each is compared once.
                if owned[KEYS[k + 2]] ~= owner or owned[KEYS[k + 3]] ~= owner then
                  local user = userPrefix .. owner
                  if KEYS[k + 2] ~= user .. '}:accounts' or KEYS[k + 3] ~= user .. '}:ledger' then
                    return invalid(id, 'belongs to user ' .. owner)
                  end
                  owned[KEYS[k + 2]], owned[KEYS[k + 3]] = owner, owner
                end
                if not string.match(profit, '^%-?%d+$') then return invalid(id, 'profit ' .. profit) end
                local gain = profit + 0
                local payout = stake + gain
                if payout < 0 then return invalid(id, 'loses ' .. profit .. ', more than its stake ' .. stake) end
                if close == 'expiry' then
                  if expires + 0 > tickTime then return invalid(id, 'expires at ' .. expires .. ', after ' .. tick) end
                else
                  liquidation = liquidation + 0
                  local reached = (direction == 'up' and liquidation > 0 and price <= liquidation)
                    or (direction == 'down' and price >= liquidation)
                  if not reached or payout ~= 0 then return invalid(id, 'is not stopped out at ' .. ARGV[3]) end
                end
                if payout ~= 0 then
                  local held = checked[KEYS[k + 2]]
                  if not held then
                    held = {}
                    checked[KEYS[k + 2]] = held
                  end
                  if not held[account] then
                    local balance = redis.call('HGET', KEYS[k + 2], account)
                    if not balance or not string.match(balance, '^%-?%d+$') then return invalid(id, 'has no account ' .. account) end
                    held[account] = true
                  end
                  if not checked[KEYS[k + 3]] then
                    local kind = redis.call('TYPE', KEYS[k + 3]).ok
                    if kind ~= 'stream' and kind ~= 'none' then return invalid(id, 'ledger is a ' .. kind) end
                    checked[KEYS[k + 3]] = true
                  end
                end
                local n = #closing + 1
                closing[n], directions[n], accounts[n], payouts[n] = i, direction, account, payout
                if not seen[owner] then
                  seen[owner] = true
                  owners[#owners + 1] = owner
                end
                statuses[n] = gain > 0 and 'won' or (gain < 0 and 'lost' or 'even')
              end
            end
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: the parts before and after the profit are the call's.
            local head, tail = close .. ' ' .. now .. ' ', ' ' .. tick .. ' ' .. ARGV[3]
            local paid = 0
            local closed, up, down = {}, {}, {}
            for n, i in ipairs(closing) do
              local a, k = 2 * i + 4, 3 * i + 1
              local id, payout = ARGV[a + 1], payouts[n]
              redis.call('HSET', KEYS[k + 1], 'status', statuses[n], '\(Trade.outcomeField)', head .. ARGV[a + 2] .. tail)
              closed[n] = id
              if directions[n] == 'up' then up[#up + 1] = id else down[#down + 1] = id end
              if payout ~= 0 then
                -- Text, not numbers: Redis turns a number argument into text with `%.17g`, a slow path.
                local amount = string.format('%d', payout)
                local balance = string.format('%d', redis.call('HINCRBY', KEYS[k + 2], accounts[n], amount))
                redis.call('XADD', KEYS[k + 3], '*', 'type', 'payout', 'account_id', accounts[n], 'amount', amount, 'balance', balance,
                  'trade_id', id)
                paid = paid + payout
              end
            end
            -- One ZREM per set and at most 1,000 members a call (unpack's stack is bounded).
            local function removeAll(key, ids)
              for first = 1, #ids, 1000 do redis.call('ZREM', key, unpack(ids, first, math.min(first + 999, #ids))) end
            end
            removeAll(KEYS[1], closed)
            removeAll(KEYS[2], up)
            removeAll(KEYS[3], down)
            if #closing > 0 then
              redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'type', 'trades', 'symbol', symbol, 'tick', tick,
                'price', ARGV[3], 'users', table.concat(owners, ','))
            end
            return {#closing, count - #closing, paid}
            """)
}
