import RedisClient

extension Scripts {
    /// Closes a batch of one symbol's trades at one tick: stopped out (the tick reached their
    /// liquidation price) or at expiry (the tick is the first at or after it). For each trade it moves
    /// the status and records the outcome (`Trade.outcomeField`: how it closed, `settled_at`, profit, the
    /// tick's id and price) in one `HSET` of two fields, credits a payout above zero to the trade's
    /// account with a payout transaction naming the trade, and removes the trade from the symbol's due
    /// and open sets.
    ///
    /// Each owner's keys come once a call, and each account's balance is read once and written once,
    /// after the call's payouts: the script adds them up itself (Lua numbers, exact below 2^53 cents; a
    /// balance beyond refuses the batch) and writes each payout transaction with the balance after it.
    /// A user's many trades in one call (a popular trader, a burst of expiries) then cost one balance
    /// write, not one per trade.
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
    /// KEYS: due set, open set (up), open set (down), the feed, then per trade: trade hash; then per owner
    ///       (in any order): user's accounts, user's ledger
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
            local ownerKeys = #KEYS - 4 - count
            if count % 1 ~= 0 or ownerKeys < 0 or ownerKeys % 2 ~= 0 then
              return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades')
            end
            if KEYS[1] ~= prefix .. 'trades:due:' .. symbol or KEYS[2] ~= prefix .. 'trades:open:' .. symbol .. ':up'
              or KEYS[3] ~= prefix .. 'trades:open:' .. symbol .. ':down' then
              return redis.error_reply('BATCH_INVALID the sets are not those of ' .. symbol)
            end
            local feed = redis.call('TYPE', KEYS[4]).ok
            if feed ~= 'stream' and feed ~= 'none' then return redis.error_reply('BATCH_INVALID the feed is a ' .. feed) end
            local function invalid(id, reason) return redis.error_reply('BATCH_INVALID trade ' .. id .. ' ' .. reason) end
            local tradePrefix, userPrefix = prefix .. 'trade:', prefix .. '{u:'
            \(tradeTerms)
            -- The owners' key pairs by their accounts key; `slots` maps each owner met to its pair's
            -- position, so a user's many trades find and check their keys once.
            local pairAt, slots, owners = {}, {}, {}
            for j = 5 + count, #KEYS, 2 do pairAt[KEYS[j]] = j end
            -- Each account's balance as the batch's payouts move it (`balances[slot][account]`), checked
            -- once and written once at the end: a user's many payouts cost one write, not one each.
            local balances = {}
            -- What the checks found, in flat arrays: the trade's position i, its direction, owner's
            -- slot, account, status, payout and the account's balance after it.
            local closing, directions, owned, accounts, statuses, payouts, after = {}, {}, {}, {}, {}, {}, {}
            for i = 1, count do
              local a, key = 2 * i + 5, KEYS[4 + i]
              local id, profit = ARGV[a], ARGV[a + 1]
              if key ~= tradePrefix .. id then return invalid(id, 'is not at ' .. key) end
              local t = redis.call('HMGET', key, 'status', '\(Trade.Terms.field)')
              if t[1] == 'open' then
                local owner, account, on, direction, stake, startTime, startSequence, liquidation, expires = tradeTerms(key, t[2])
                if not owner then return invalid(id, 'has malformed terms') end
                if on ~= symbol then return invalid(id, 'is on ' .. on) end
                if not before(startTime, startSequence) then
                  return invalid(id, 'started at ' .. startTime .. '-' .. startSequence .. ', not before ' .. tick)
                end
                local slot = slots[owner]
                if not slot then
                  local user = userPrefix .. owner
                  slot = pairAt[user .. '}:accounts']
                  if not slot or KEYS[slot + 1] ~= user .. '}:ledger' then return invalid(id, 'belongs to user ' .. owner) end
                  slots[owner] = slot
                  owners[#owners + 1] = owner
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
                local n = #closing + 1
                if payout ~= 0 then
                  local held = balances[slot]
                  if not held then
                    local kind = redis.call('TYPE', KEYS[slot + 1]).ok
                    if kind ~= 'stream' and kind ~= 'none' then return invalid(id, 'ledger is a ' .. kind) end
                    held = {}
                    balances[slot] = held
                  end
                  local balance = held[account]
                  if not balance then
                    balance = redis.call('HGET', KEYS[slot], account)
                    if not balance or not string.match(balance, '^%-?%d+$') then return invalid(id, 'has no account ' .. account) end
                    balance = balance + 0
                  end
                  balance = balance + payout
                  -- Lua's numbers are doubles: exact integers below 2^53 cents only.
                  if math.abs(balance) >= 2 ^ 53 then return invalid(id, 'takes account ' .. account .. ' beyond 2^53 cents') end
                  held[account], after[n] = balance, balance
                end
                closing[n], directions[n], owned[n], accounts[n], payouts[n] = i, direction, slot, account, payout
                statuses[n] = gain > 0 and 'won' or (gain < 0 and 'lost' or 'even')
              end
            end
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: the parts before and after the profit are the call's.
            local head, tail = close .. ' ' .. now .. ' ', ' ' .. tick .. ' ' .. ARGV[3]
            local paid = 0
            local closed, up, down = {}, {}, {}
            for n, i in ipairs(closing) do
              local id, payout = ARGV[2 * i + 5], payouts[n]
              redis.call('HSET', KEYS[4 + i], 'status', statuses[n], '\(Trade.outcomeField)', head .. ARGV[2 * i + 6] .. tail)
              closed[n] = id
              if directions[n] == 'up' then up[#up + 1] = id else down[#down + 1] = id end
              if payout ~= 0 then
                -- Text, not numbers: Redis turns a number argument into text with `%.17g`, a slow path.
                redis.call('XADD', KEYS[owned[n] + 1], '*', 'type', 'payout', 'account_id', accounts[n], 'amount', string.format('%d', payout),
                  'balance', string.format('%d', after[n]), 'trade_id', id)
                paid = paid + payout
              end
            end
            for slot, held in pairs(balances) do
              for account, balance in pairs(held) do redis.call('HSET', KEYS[slot], account, string.format('%d', balance)) end
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
