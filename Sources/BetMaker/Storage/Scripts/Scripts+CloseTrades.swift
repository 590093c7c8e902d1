import RedisClient

extension Scripts {
    /// Closes a batch of one symbol's trades at one tick: stopped out (the tick reached their
    /// liquidation price) or at expiry (the tick is the first at or after it). For each trade it moves
    /// the status and records the outcome (`Trade.outcomeField`: how it closed, `settled_at`, profit, the
    /// tick's id and price) in one `HSET` of two fields, credits a payout above zero to the trade's
    /// account with a payout transaction naming the trade, and removes the trade from the symbol's due
    /// and open sets and from its open-trade terms (`RedisKeys.openTradeTerms`).
    ///
    /// Each owner's keys come once a call, and each account costs one write a call, whatever number of
    /// its trades the call closes: one `HINCRBY` of the call's payouts to it, whose reply less their sum
    /// is the balance before them, so each payout transaction still records the balance right after it
    /// (Lua numbers, exact below 2^53 cents; a balance beyond refuses the batch). Nothing is read per
    /// owner: the account exists because the trade's stake came out of it and accounts are never
    /// deleted, and its ledger is a stream because that stake's transaction went into it (the invariant
    /// checker reports either, should something outside the scripts break them).
    ///
    /// The worker computes each profit in Swift (exact Int128 arithmetic, `TradeMath`) from the trade's
    /// terms (`Trade.Terms`, immutable) and the tick; the script reads the batch's terms in one `HMGET`
    /// of the symbol's open-trade terms, which hold a trade exactly while it is open, derives the payout
    /// (stake + profit, never negative) and the status (won, lost or even by the profit's sign), and
    /// re-verifies what the outcome depends on:
    /// the trade is this symbol's, its start tick comes before this tick, an expiry close is due at the
    /// tick's time, a stop-out's tick reaches the liquidation price and pays nothing, the keys are the
    /// trade's and its owner's. A trade that is no longer
    /// open was closed already (by another worker, or before a crash) and is skipped: that is what
    /// makes a retry or a second worker harmless. Anything else wrong refuses the whole batch before
    /// the first write (`BATCH_INVALID`), as Redis does not roll a script back; a write Redis refuses
    /// after that (an account that holds no integer, a ledger that is no stream) refuses the batch too,
    /// and the script takes back the writes it made before (`HINCRBY` of the opposite, `XDEL`), so a
    /// refused batch leaves nothing behind either way.
    ///
    /// A call that closes trades appends ONE entry to the live feed (`RedisKeys.feed`, capped), in the
    /// same step: `type` `trades`, the symbol, the tick and its price, and the ids of the users whose
    /// trades it closed, so the API can tell those players' browsers without a write per trade (as
    /// `settle_batch` does for bets).
    ///
    /// KEYS: due set, open set (up), open set (down), the feed, the symbol's open-trade terms, then per
    ///       trade: trade hash; then per owner (in any order): user's accounts, user's ledger
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
            local ownerKeys = #KEYS - 5 - count
            if count % 1 ~= 0 or ownerKeys < 0 or ownerKeys % 2 ~= 0 then
              return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades')
            end
            if KEYS[1] ~= prefix .. 'trades:due:' .. symbol or KEYS[2] ~= prefix .. 'trades:open:' .. symbol .. ':up'
              or KEYS[3] ~= prefix .. 'trades:open:' .. symbol .. ':down' or KEYS[5] ~= prefix .. 'trades:terms:' .. symbol then
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
            for j = 6 + count, #KEYS, 2 do pairAt[KEYS[j]] = j end
            -- The call's payouts per account (account ids are unique across users), the owner's pair
            -- each is credited under, and the accounts in the order met.
            local totals, creditedUnder, credits = {}, {}, {}
            -- What the checks found, in flat arrays: the trade's position i, its direction, owner's
            -- slot, account, status and payout.
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
            local ids = {}
            for i = 1, count do ids[i] = ARGV[2 * i + 5] end
            -- The batch's terms in one read: a trade that is not there is closed.
            local openTerms = inChunks('HMGET', KEYS[5], ids, {})
            for i = 1, count do
              local a, key = 2 * i + 5, KEYS[5 + i]
              local id, profit = ARGV[a], ARGV[a + 1]
              if key ~= tradePrefix .. id then return invalid(id, 'is not at ' .. key) end
              local terms = openTerms[i]
              if terms then
                local owner, account, on, direction, stake, startTime, startSequence, liquidation, expires = tradeTerms(terms)
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
                if payout ~= 0 then
                  local total = totals[account]
                  if not total then
                    total = 0
                    creditedUnder[account] = slot
                    credits[#credits + 1] = account
                  elseif creditedUnder[account] ~= slot then
                    return invalid(id, 'pays account ' .. account .. ', which a trade of another owner pays too')
                  end
                  totals[account] = total + payout
                end
                local n = #closing + 1
                closing[n], directions[n], owned[n], accounts[n], payouts[n] = i, direction, slot, account, payout
                statuses[n] = gain > 0 and 'won' or (gain < 0 and 'lost' or 'even')
              end
            end
            -- The writes. Redis does not roll a script back, so a write refused from here on (an account
            -- that is no integer, a ledger that is no stream) takes back the writes before it.
            local credited = 0
            local function uncredit()
              for k = 1, credited do
                local account = credits[k]
                redis.call('HINCRBY', KEYS[creditedUnder[account]], account, string.format('%d', -totals[account]))
              end
            end
            -- Each account's payouts in one HINCRBY: its reply less their sum is the balance before them,
            -- from which each payout transaction records the balance right after it. Lua's numbers are
            -- doubles: exact integers below 2^53 cents only.
            local balances = {}
            for k, account in ipairs(credits) do
              local total, accountsKey = totals[account], KEYS[creditedUnder[account]]
              local balance = redis.pcall('HINCRBY', accountsKey, account, string.format('%d', total))
              if type(balance) ~= 'number' then
                uncredit()
                return redis.error_reply('BATCH_INVALID account ' .. account .. ' in ' .. accountsKey .. ' is no balance')
              end
              credited = k
              if math.abs(balance) >= 2 ^ 53 then
                uncredit()
                return redis.error_reply('BATCH_INVALID account ' .. account .. ' would go beyond 2^53 cents')
              end
              balances[account] = balance - total
            end
            local entries = {}
            for n, i in ipairs(closing) do
              local payout = payouts[n]
              if payout ~= 0 then
                local account, ledger = accounts[n], KEYS[owned[n] + 1]
                local balance = balances[account] + payout
                balances[account] = balance
                -- Text, not numbers: Redis turns a number argument into text with `%.17g`, a slow path.
                local entry = redis.pcall('XADD', ledger, '*', 'type', 'payout', 'account_id', account, 'amount', string.format('%d', payout),
                  'balance', string.format('%d', balance), 'trade_id', ARGV[2 * i + 5])
                if type(entry) ~= 'string' then
                  for m = 1, n - 1 do
                    if entries[m] then redis.call('XDEL', KEYS[owned[m] + 1], entries[m]) end
                  end
                  uncredit()
                  return invalid(ARGV[2 * i + 5], 'pays into ' .. ledger .. ', which is no ledger')
                end
                entries[n] = entry
              end
            end
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: the parts before and after the profit are the call's.
            local head, tail = close .. ' ' .. now .. ' ', ' ' .. tick .. ' ' .. ARGV[3]
            local paid = 0
            local closed, up, down = {}, {}, {}
            for n, i in ipairs(closing) do
              local id = ARGV[2 * i + 5]
              redis.call('HSET', KEYS[5 + i], 'status', statuses[n], '\(Trade.outcomeField)', head .. ARGV[2 * i + 6] .. tail)
              closed[n] = id
              if directions[n] == 'up' then up[#up + 1] = id else down[#down + 1] = id end
              paid = paid + payouts[n]
            end
            inChunks('ZREM', KEYS[1], closed)
            inChunks('ZREM', KEYS[2], up)
            inChunks('ZREM', KEYS[3], down)
            inChunks('HDEL', KEYS[5], closed)
            if #closing > 0 then
              redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'type', 'trades', 'symbol', symbol, 'tick', tick,
                'price', ARGV[3], 'users', table.concat(owners, ','))
            end
            return {#closing, count - #closing, paid}
            """)
}
