import RedisClient

extension Scripts {
    /// Settles one batch of an event's bets, and pays the winners with money; for a VOID result it
    /// makes every bet `void` and refunds the stake of every bet with money instead.
    ///
    /// The event hash keeps `settle_pos`, how far down the event's bet list settlement has come; the
    /// caller says which position its batch starts at, and the script applies it only if that is
    /// still true. A redelivered entry, a second worker or a retry after a crash therefore settles
    /// (and pays) nothing twice: a stale batch changes nothing and the caller learns the real
    /// position. Bets below `settle_pos` are settled and bets from it on are pending, because only
    /// this script changes a bet's status and it moves `settle_pos` in the same step.
    ///
    /// The caller reads the batch's entries from the list (positions in it never change: the list is
    /// append-only) and passes the keys they name in KEYS: each bet's key, then, for each bet with
    /// money in list order, its user's accounts and ledger. The script checks every key against the
    /// list, so a misaligned or foreign batch is refused whole. A won bet with money is credited its
    /// payout with a payout transaction in the same step that marks it won, and a void bet with money
    /// its stake with a refund transaction in the step that marks it void: a position is applied once,
    /// so each is credited exactly once. A call without bets only reports where settlement stands.
    ///
    /// Redis does not roll a script back, so everything the writes need is read and checked before
    /// the first one: each bet is pending; each payout or refund to credit is a whole number of cents, each
    /// balance it goes to exists and is one, each ledger is a stream; and the event's counters are
    /// whole numbers (checked on every call). A batch failing any of that is refused whole
    /// (`BATCH_INVALID`) and nothing is written, so its stream entry is retried and then
    /// dead-lettered without paying anybody twice.
    ///
    /// A bet is a hash (`RedisKeys.bet`): the script checks that its `status` is `pending` and sets
    /// `status` and `settled_at`; the payout was locked in when the bet was placed.
    ///
    /// Once the event is settled to the end it gets `settled_at` and leaves the index of unsettled
    /// events.
    ///
    /// An applied batch appends ONE entry to the live feed (`RedisKeys.feed`, capped), in the same step:
    /// `type` `settlement`, the event, its result, bets settled of total, won, lost, void, paid and
    /// refunded so far, and the ids of the users whose bets this batch settled, so the API can tell
    /// those players' browsers (and every operator's) without a write per bet.
    ///
    /// KEYS: event hash, event bet list, index of unsettled events, the feed, bets..., (user accounts, user ledger)...
    /// ARGV: result, position of the batch, settled_at (ms), key prefix, number of bets, event id, the feed's length cap
    /// Returns {'applied' | 'stale', position, total bets, finished (0|1), won, lost, paid out (cents),
    ///   void, refunded (cents)}
    /// Errors: RESULT_MISMATCH (the entry's result is not the event's), STALE_BATCH (not the bets at
    /// that position), BATCH_INVALID (a bet, payout, refund, balance, ledger or counter the batch needs is damaged)
    public static let settleBatch = RedisScript(
        name: "settle_batch",
        source: """
            #!lua
            local event = KEYS[1]
            local state = redis.call('HMGET', event, 'result', 'settle_pos', 'settled_at', 'won', 'lost', 'paid', 'void', 'refunded')
            if state[1] ~= ARGV[1] then
              return redis.error_reply('RESULT_MISMATCH the event result is ' .. tostring(state[1]) .. ', not ' .. ARGV[1])
            end
            for field = 4, 8 do
              if state[field] and not string.match(state[field], '^%d+$') then
                return redis.error_reply('BATCH_INVALID the event counter ' .. field .. ' is ' .. state[field])
              end
            end
            local feed = redis.call('TYPE', KEYS[4]).ok
            if feed ~= 'stream' and feed ~= 'none' then return redis.error_reply('BATCH_INVALID the feed is a ' .. feed) end
            local position = tonumber(state[2] or '0')
            local count = tonumber(ARGV[5])
            local prefix = ARGV[4]
            local outcome = 'stale'
            -- The users whose bets this batch settles, for the feed entry.
            local users = {}
            if count > 0 and position == tonumber(ARGV[2]) then
              local entries = redis.call('LRANGE', KEYS[2], position, position + count - 1)
              local wallets = {}
              local walletKey = 4 + count
              local betKey = event .. ':bet:'
              for i = 1, count do
                local entry = entries[i] or ''
                local serial = entry
                local colon = string.find(entry, ':', 1, true)
                if colon then
                  serial = string.sub(entry, 1, colon - 1)
                  local user, account = string.match(entry, '^[^:]+:(%d+):(%d+)$')
                  local owner = '{u:' .. tostring(user) .. '}'
                  if KEYS[walletKey + 1] ~= prefix .. owner .. ':accounts' or KEYS[walletKey + 2] ~= prefix .. owner .. ':ledger' then
                    return redis.error_reply('STALE_BATCH the wallet keys of ' .. entry .. ' are not ' .. tostring(KEYS[walletKey + 1]))
                  end
                  wallets[i] = {walletKey + 1, walletKey + 2, account, serial}
                  users[user] = true
                  walletKey = walletKey + 2
                end
                if KEYS[4 + i] ~= betKey .. serial then
                  return redis.error_reply('STALE_BATCH ' .. KEYS[4 + i] .. ' is not the bet at position ' .. (position + i - 1))
                end
              end
              if walletKey ~= #KEYS then return redis.error_reply('STALE_BATCH ' .. #KEYS .. ' keys for ' .. walletKey) end
              local status = (ARGV[1] == 'WIN') and 'won' or (ARGV[1] == 'VOID') and 'void' or 'lost'
              -- What a bet with money is credited: a win its payout, a void its stake back.
              local credit = (status == 'won') and 'payout' or (status == 'void') and 'amount' or nil
              local entryType = (status == 'void') and 'refund' or 'payout'
              -- Every read and check the writes need, before the first write.
              local payouts = {}
              local ledgers = {}
              local balances = {}
              for i = 1, count do
                -- One read per bet (each redis.call costs about as much again as the command itself):
                -- its status, and for a bet with money that is credited, the amount to credit.
                local wallet = wallets[i]
                local pending, payout
                if wallet and credit then
                  local bet = redis.call('HMGET', KEYS[4 + i], 'status', credit)
                  pending, payout = bet[1], bet[2]
                else
                  pending = redis.call('HGET', KEYS[4 + i], 'status')
                end
                if pending ~= 'pending' then
                  return redis.error_reply('BATCH_INVALID ' .. KEYS[4 + i] .. ' is not a pending bet: its status is ' .. tostring(pending))
                end
                if wallet and credit then
                  if not payout or not string.match(payout, '^%d+$') or #payout > 15 then
                    return redis.error_reply('BATCH_INVALID the ' .. credit .. ' of ' .. KEYS[4 + i] .. ' is ' .. tostring(payout))
                  end
                  -- Each account is read once per batch: nothing is written before the checks end,
                  -- so a second read of it could only give the same answer.
                  local account = KEYS[wallet[1]] .. ' ' .. wallet[3]
                  if not balances[account] then
                    local balance = redis.call('HGET', KEYS[wallet[1]], wallet[3])
                    if not balance or not string.match(balance, '^%-?%d+$') then
                      return redis.error_reply('BATCH_INVALID account ' .. wallet[3] .. ' in ' .. KEYS[wallet[1]] .. ' has balance ' .. tostring(balance))
                    end
                    balances[account] = true
                  end
                  local ledger = KEYS[wallet[2]]
                  if not ledgers[ledger] then
                    local kind = redis.call('TYPE', ledger).ok
                    if kind ~= 'stream' and kind ~= 'none' then
                      return redis.error_reply('BATCH_INVALID ' .. ledger .. ' is a ' .. kind .. ', not a stream')
                    end
                    ledgers[ledger] = true
                  end
                  payouts[i] = payout
                end
              end
              local paid = 0
              for i = 1, count do
                redis.call('HSET', KEYS[4 + i], 'status', status, 'settled_at', ARGV[3])
                local payout = payouts[i]
                if payout then
                  local wallet = wallets[i]
                  local balance = redis.call('HINCRBY', KEYS[wallet[1]], wallet[3], payout)
                  redis.call('XADD', KEYS[wallet[2]], '*', 'type', entryType, 'account_id', wallet[3], 'amount', payout,
                    'balance', balance, 'bet_id', ARGV[6] .. '~' .. wallet[4])
                  paid = paid + tonumber(payout)
                end
              end
              redis.call('HINCRBY', event, status, count)
              if paid > 0 then redis.call('HINCRBY', event, (status == 'void') and 'refunded' or 'paid', string.format('%.0f', paid)) end
              position = position + count
              redis.call('HSET', event, 'settle_pos', position)
              outcome = 'applied'
            end
            local total = redis.call('LLEN', KEYS[2])
            local finished = 0
            if position >= total then
              if not state[3] then redis.call('HSET', event, 'settled_at', ARGV[3]) end
              redis.call('ZREM', KEYS[3], ARGV[6])
              finished = 1
            end
            local counts = redis.call('HMGET', event, 'won', 'lost', 'paid', 'void', 'refunded')
            if outcome == 'applied' then
              local ids = {}
              for user in pairs(users) do ids[#ids + 1] = user end
              table.sort(ids)
              redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'type', 'settlement', 'event_id', ARGV[6], 'result', ARGV[1],
                'settled', position, 'total', total, 'won', counts[1] or '0', 'lost', counts[2] or '0', 'void', counts[4] or '0',
                'paid', counts[3] or '0', 'refunded', counts[5] or '0', 'users', table.concat(ids, ','))
            end
            return {outcome, position, total, finished, tonumber(counts[1] or '0'), tonumber(counts[2] or '0'), tonumber(counts[3] or '0'),
              tonumber(counts[4] or '0'), tonumber(counts[5] or '0')}
            """)
}
