import RedisClient

extension Scripts {
    /// Closes a batch of one symbol's trades at one tick: stopped out (the tick reached their
    /// liquidation price) or at expiry (the tick is the first at or after it). For each trade it moves
    /// the status, records the tick (id and price), profit, payout, how it closed and `settled_at`,
    /// credits a payout above zero to the trade's account with a payout transaction naming the trade,
    /// and removes the trade from the symbol's due and open sets.
    ///
    /// The worker computes each outcome in Swift (exact Int128 arithmetic, `TradeMath`) from the
    /// trade's immutable fields and the tick; the script re-verifies what the outcome depends on: the
    /// trade is this symbol's, its start tick comes before this tick, an expiry close is due at the
    /// tick's time, a stop-out's tick reaches the liquidation price and pays nothing, payout = stake +
    /// profit and is not negative, the keys are the trade's and its owner's. A trade that is no longer
    /// open was closed already (by another worker, or before a crash) and is skipped: that is what
    /// makes a retry or a second worker harmless. Anything else wrong refuses the whole batch before
    /// the first write (`BATCH_INVALID`), as Redis does not roll a script back.
    ///
    /// KEYS: due set, open set (up), open set (down), then per trade: trade hash, user's accounts, user's ledger
    /// ARGV: symbol, tick id, tick price, key prefix, then per trade: trade id, close ('expiry'|'stop_out'),
    ///       status, profit (cents), payout (cents)
    /// Returns {closed, skipped, paid out (cents)}
    /// Errors: BATCH_INVALID (a key, a trade or an outcome does not check out)
    public static let closeTrades = RedisScript(
        name: "close_trades",
        source: """
            #!lua
            \(tickIDCompare)
            local symbol, tick, price, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            local tickTime = tonumber(string.match(tick, '^(%d+)-'))
            local count = (#ARGV - 4) / 5
            if #KEYS ~= 3 + 3 * count then return redis.error_reply('BATCH_INVALID ' .. #KEYS .. ' keys for ' .. count .. ' trades') end
            if KEYS[1] ~= prefix .. 'trades:due:' .. symbol or KEYS[2] ~= prefix .. 'trades:open:' .. symbol .. ':up'
              or KEYS[3] ~= prefix .. 'trades:open:' .. symbol .. ':down' then
              return redis.error_reply('BATCH_INVALID the sets are not those of ' .. symbol)
            end
            local function invalid(id, reason) return redis.error_reply('BATCH_INVALID trade ' .. id .. ' ' .. reason) end
            local closing = {}
            local ledgers = {}
            for i = 1, count do
              local a, k = 4 + 5 * (i - 1), 3 + 3 * (i - 1)
              local id, close, status, profit, payout = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
              if KEYS[k + 1] ~= prefix .. 'trade:' .. id then return invalid(id, 'is not at ' .. KEYS[k + 1]) end
              local t = redis.call('HMGET', KEYS[k + 1], 'status', 'symbol', 'direction', 'user_id', 'account_id', 'start_tick',
                'expires_at', 'stake', 'liquidation_price')
              if t[1] == 'open' then
                if t[2] ~= symbol then return invalid(id, 'is on ' .. tostring(t[2])) end
                if not t[6] or not before(t[6], tick) then return invalid(id, 'started at ' .. tostring(t[6]) .. ', not before ' .. tick) end
                if KEYS[k + 2] ~= prefix .. '{u:' .. tostring(t[4]) .. '}:accounts' or KEYS[k + 3] ~= prefix .. '{u:' .. tostring(t[4]) .. '}:ledger' then
                  return invalid(id, 'belongs to user ' .. tostring(t[4]))
                end
                if not string.match(profit, '^%-?%d+$') or not string.match(payout, '^%d+$') or not string.match(t[8] or '', '^%d+$')
                  or tonumber(payout) ~= tonumber(t[8]) + tonumber(profit) then
                  return invalid(id, 'payout ' .. payout .. ' is not stake ' .. tostring(t[8]) .. ' + profit ' .. profit)
                end
                local expected = tonumber(profit) > 0 and 'won' or (tonumber(profit) < 0 and 'lost' or 'even')
                if status ~= expected then return invalid(id, 'status ' .. status .. ' for profit ' .. profit) end
                if close == 'expiry' then
                  if tonumber(t[7]) > tickTime then return invalid(id, 'expires at ' .. t[7] .. ', after ' .. tick) end
                elseif close == 'stop_out' then
                  local liquidation = tonumber(t[9] or '0')
                  local reached = (t[3] == 'up' and liquidation > 0 and tonumber(price) <= liquidation)
                    or (t[3] == 'down' and tonumber(price) >= liquidation)
                  if not reached or payout ~= '0' then return invalid(id, 'is not stopped out at ' .. price) end
                else
                  return invalid(id, 'closes by ' .. close)
                end
                if payout ~= '0' then
                  local balance = redis.call('HGET', KEYS[k + 2], t[5])
                  if not balance or not string.match(balance, '^%-?%d+$') then return invalid(id, 'has no account ' .. tostring(t[5])) end
                  if not ledgers[KEYS[k + 3]] then
                    local kind = redis.call('TYPE', KEYS[k + 3]).ok
                    if kind ~= 'stream' and kind ~= 'none' then return invalid(id, 'ledger is a ' .. kind) end
                    ledgers[KEYS[k + 3]] = true
                  end
                end
                closing[#closing + 1] = {k, id, close, status, profit, payout, t[3], t[5]}
              end
            end
            \(redisNow)
            local paid = 0
            for _, c in ipairs(closing) do
              local k, id, close, status, profit, payout, direction, account = c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
              redis.call('HSET', KEYS[k + 1], 'status', status, 'closed_by', close, 'end_tick', tick, 'end_price', price,
                'profit', profit, 'payout', payout, 'settled_at', now)
              redis.call('ZREM', KEYS[1], id)
              redis.call('ZREM', direction == 'up' and KEYS[2] or KEYS[3], id)
              if payout ~= '0' then
                local balance = redis.call('HINCRBY', KEYS[k + 2], account, payout)
                redis.call('XADD', KEYS[k + 3], '*', 'type', 'payout', 'account_id', account, 'amount', payout, 'balance', balance,
                  'trade_id', id)
                paid = paid + tonumber(payout)
              end
            end
            return {#closing, count - #closing, paid}
            """)
}
