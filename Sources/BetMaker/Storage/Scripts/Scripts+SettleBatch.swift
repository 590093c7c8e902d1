import RedisClient

extension Scripts {
    /// Settles one batch of an event's bets, and owes the winners with money their payouts; for a VOID
    /// result it makes every bet `void` and owes every bet with money its stake back instead.
    ///
    /// The event hash keeps `settle_pos`, how far down the event's bet list settlement has come; the
    /// caller says which position its batch starts at, and the script applies it only if that is
    /// still true. A redelivered entry, a second worker or a retry after a crash therefore settles
    /// (and pays) nothing twice: a stale batch changes nothing and the caller learns the real
    /// position. Bets below `settle_pos` are settled and bets from it on are pending, because only
    /// this script changes a bet's status and it moves `settle_pos` in the same step.
    ///
    /// The caller reads the batch's entries from the list (positions in it never change: the list is
    /// append-only) and passes each bet's key in KEYS. The script checks every key against the list, so a
    /// misaligned or foreign batch is refused whole. The script touches the event's slot alone: what a
    /// bet with money is owed (a won bet's payout, a void bet's stake) is appended to the shard's credits
    /// outbox (`RedisKeys.creditOutbox`) in the step that marks it, and the worker's `CreditRelay` applies
    /// it on the user's slot, once (`apply_credits`). A position is applied once, so each credit is owed
    /// once. A call without bets only reports where settlement stands.
    ///
    /// Redis does not roll a script back, so everything the writes need is read and checked before
    /// the first one: each bet is pending; each payout or refund owed is a whole number of cents, the
    /// outbox is a stream; and the event's counters are whole numbers (checked on every call). A batch
    /// failing any of that is refused whole (`BATCH_INVALID`) and nothing is written, so its stream
    /// entry is retried and then dead-lettered without owing anybody twice.
    ///
    /// A bet is a hash (`RedisKeys.bet`): the script checks that its `status` is `pending` and sets
    /// `status` and `settled_at`; the payout was locked in when the bet was placed.
    ///
    /// Once the event is settled to the end it gets `settled_at`; the caller then takes it out of the
    /// index of unsettled events (another slot), and appends the live feed's entry for an applied batch
    /// (`type` `settlement`, the counts so far, the users whose bets this batch settled).
    ///
    /// KEYS: event hash, event bet list, the shard's credits outbox, bets...
    /// ARGV: result, position of the batch, settled_at (ms), the key of the event's bets less the serial,
    ///       number of bets, event id
    /// Returns {'applied' | 'stale', position, total bets, finished (0|1), won, lost, paid out (cents),
    ///   void, refunded (cents), the users of the batch's bets with money (comma-separated)}
    /// Errors: RESULT_MISMATCH (the entry's result is not the event's), STALE_BATCH (not the bets at
    /// that position), BATCH_INVALID (a bet, payout, refund, the outbox or a counter the batch needs is damaged)
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
            local position = tonumber(state[2] or '0')
            local count = tonumber(ARGV[5])
            local outcome = 'stale'
            -- The users whose bets this batch settles, for the feed entry.
            local users = {}
            if count > 0 and position == tonumber(ARGV[2]) then
              if #KEYS ~= 3 + count then return redis.error_reply('STALE_BATCH ' .. #KEYS .. ' keys for ' .. count .. ' bets') end
              local outbox = redis.call('TYPE', KEYS[3]).ok
              if outbox ~= 'stream' and outbox ~= 'none' then return redis.error_reply('BATCH_INVALID the outbox is a ' .. outbox) end
              local entries = redis.call('LRANGE', KEYS[2], position, position + count - 1)
              local wallets = {}
              for i = 1, count do
                local entry = entries[i] or ''
                local serial = entry
                local colon = string.find(entry, ':', 1, true)
                if colon then
                  serial = string.sub(entry, 1, colon - 1)
                  local user, account = string.match(entry, '^[^:]+:(%d+):(%d+)$')
                  if not user then return redis.error_reply('BATCH_INVALID the list entry ' .. entry .. ' names no account') end
                  wallets[i] = {user, account, serial}
                  users[user] = true
                end
                if KEYS[3 + i] ~= ARGV[4] .. serial then
                  return redis.error_reply('STALE_BATCH ' .. KEYS[3 + i] .. ' is not the bet at position ' .. (position + i - 1))
                end
              end
              local status = (ARGV[1] == 'WIN') and 'won' or (ARGV[1] == 'VOID') and 'void' or 'lost'
              -- What a bet with money is owed: a win its payout, a void its stake back.
              local credit = (status == 'won') and 'payout' or (status == 'void') and 'amount' or nil
              local entryType = (status == 'void') and 'refund' or 'payout'
              -- Every read and check the writes need, before the first write.
              local payouts = {}
              for i = 1, count do
                -- One read per bet (each redis.call costs about as much again as the command itself):
                -- its status, and for a bet with money that is owed something, the amount.
                local wallet = wallets[i]
                local pending, payout
                if wallet and credit then
                  local bet = redis.call('HMGET', KEYS[3 + i], 'status', credit)
                  pending, payout = bet[1], bet[2]
                else
                  pending = redis.call('HGET', KEYS[3 + i], 'status')
                end
                if pending ~= 'pending' then
                  return redis.error_reply('BATCH_INVALID ' .. KEYS[3 + i] .. ' is not a pending bet: its status is ' .. tostring(pending))
                end
                if wallet and credit then
                  if not payout or not string.match(payout, '^%d+$') or #payout > 15 then
                    return redis.error_reply('BATCH_INVALID the ' .. credit .. ' of ' .. KEYS[3 + i] .. ' is ' .. tostring(payout))
                  end
                  payouts[i] = payout
                end
              end
              local paid = 0
              for i = 1, count do
                redis.call('HSET', KEYS[3 + i], 'status', status, 'settled_at', ARGV[3])
                local payout = payouts[i]
                if payout then
                  local wallet = wallets[i]
                  redis.call('XADD', KEYS[3], '*', 'type', entryType, 'user_id', wallet[1], 'account_id', wallet[2], 'amount', payout,
                    'bet_id', ARGV[6] .. '~' .. wallet[3])
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
              finished = 1
            end
            local counts = redis.call('HMGET', event, 'won', 'lost', 'paid', 'void', 'refunded')
            local ids = {}
            for user in pairs(users) do ids[#ids + 1] = user end
            table.sort(ids)
            return {outcome, tostring(position), tostring(total), tostring(finished), counts[1] or '0', counts[2] or '0', counts[3] or '0',
              counts[4] or '0', counts[5] or '0', table.concat(ids, ',')}
            """)
}
