import RedisClient

/// Every Lua script of bet-maker. Each is one atomic step; each checks everything before it writes
/// (Redis does not roll a script back), and each touches only keys passed in KEYS.
///
/// The `#!lua` line makes Redis treat a script as a whole: one that may write is refused before it
/// starts when Redis is out of memory (`OOM`), instead of failing halfway with some writes made; one
/// marked `no-writes` still runs then, so reading works while writing cannot.
public enum Scripts {
    /// Places an anonymous bet (no money moves) unless its event has a result. With an idempotency
    /// key, a repeated request gets the id of the bet it placed, and a different request with the
    /// same key is refused.
    ///
    /// KEYS: event hash, event bet list, bet hash, list of anonymous bets [, idempotency key]
    /// ARGV: bet id, event id, amount (cents) [, fingerprint, ttl (ms)]
    /// Returns {'placed', created_at (ms)} | {'replayed', bet id} | {'idempotency_mismatch'} | {'closed', result} | {'id_taken'}
    public static let placeBet = RedisScript(
        name: "place_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 5, fingerprint: 4))
            local result = redis.call('HGET', KEYS[1], 'result')
            if result then return {'closed', result} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            \(redisNow)
            redis.call('HSET', KEYS[3], 'event_id', ARGV[2], 'amount', ARGV[3], 'status', 'pending', 'created_at', now)
            redis.call('RPUSH', KEYS[2], ARGV[1])
            redis.call('RPUSH', KEYS[4], ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[3])
            \(saveIdempotentRequest(key: 5, fingerprint: 4))
            return {'placed', now}
            """)

    /// `local now`: Redis's clock in milliseconds since 1970, as decimal text. The placing scripts
    /// stamp `created_at` with it rather than taking the API's: scripts run one at a time, so the
    /// times follow the order the bets enter their lists, and "newest first" and `created_at` agree
    /// even for bets that several API processes place at once (as long as the Redis host's clock does
    /// not step back).
    private static let redisNow = """
        local clock = redis.call('TIME')
        local now = clock[1] .. string.format('%03d', math.floor(tonumber(clock[2]) / 1000))
        """

    /// The placing scripts' answer to a request whose Idempotency-Key (`KEYS[key]`, optional) was
    /// seen: the id of the bet it placed if `ARGV[fingerprint]` matches, else a refusal.
    private static func replayIdempotentRequest(key: Int, fingerprint: Int) -> String {
        """
        if KEYS[\(key)] then
          local saved = redis.call('HMGET', KEYS[\(key)], 'fingerprint', 'bet_id')
          if saved[1] then
            if saved[1] == ARGV[\(fingerprint)] then return {'replayed', saved[2]} end
            return {'idempotency_mismatch'}
          end
        end
        """
    }

    /// Keeps the bet id (`ARGV[1]`) under the Idempotency-Key for `ARGV[fingerprint + 1]` ms.
    private static func saveIdempotentRequest(key: Int, fingerprint: Int) -> String {
        """
        if KEYS[\(key)] then
          redis.call('HSET', KEYS[\(key)], 'fingerprint', ARGV[\(fingerprint)], 'bet_id', ARGV[1])
          redis.call('PEXPIRE', KEYS[\(key)], ARGV[\(fingerprint + 1)])
        end
        """
    }

    /// Places a bet with money: checks that the user is active, that the event is an open catalogue
    /// event without a result, and that the account is the user's and covers the stake; then debits
    /// the stake, records the stake transaction and writes the bet with the odds locked in, all in
    /// one step. Without an account id the user's first account (lowest id) pays.
    ///
    /// KEYS: event hash, event bet list, bet hash, user hash, user's accounts, user's ledger, user's
    ///       bet list [, idempotency key]
    /// ARGV: bet id, event id, amount (cents), user id, account id or '' [, fingerprint, ttl (ms)]
    /// Returns {'placed', account id, odds, payout, created_at (ms)} | {'replayed', bet id} |
    ///   {'idempotency_mismatch'} | {'inactive_user'} | {'closed', result} | {'not_in_catalogue'} |
    ///   {'not_open'} | {'no_account'} | {'insufficient_funds', balance} | {'id_taken'}
    public static let placeWalletBet = RedisScript(
        name: "place_wallet_bet",
        source: """
            #!lua
            \(replayIdempotentRequest(key: 8, fingerprint: 6))
            if redis.call('HGET', KEYS[4], 'status') ~= 'active' then return {'inactive_user'} end
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue', 'open', 'odds')
            if event[1] then return {'closed', event[1]} end
            if not event[2] then return {'not_in_catalogue'} end
            if event[3] ~= '1' then return {'not_open'} end
            local account = ARGV[5]
            if account == '' then
              local lowest
              for _, id in ipairs(redis.call('HKEYS', KEYS[5])) do
                if not lowest or tonumber(id) < lowest then lowest = tonumber(id) end
              end
              if not lowest then return {'no_account'} end
              account = string.format('%d', lowest)
            end
            local balance = redis.call('HGET', KEYS[5], account)
            if not balance then return {'no_account'} end
            local stake = tonumber(ARGV[3])
            if tonumber(balance) < stake then return {'insufficient_funds', balance} end
            if redis.call('EXISTS', KEYS[3]) == 1 then return {'id_taken'} end
            local odds = event[4]
            \(redisNow)
            local gross = stake * tonumber(odds)
            local payout = string.format('%.0f', (gross - gross % 100) / 100)
            local after = redis.call('HINCRBY', KEYS[5], account, -stake)
            redis.call('XADD', KEYS[6], '*', 'type', 'stake', 'account_id', account, 'amount', '-' .. ARGV[3],
              'balance', after, 'bet_id', ARGV[1])
            redis.call('HSET', KEYS[3], 'event_id', ARGV[2], 'amount', ARGV[3], 'status', 'pending', 'created_at', now,
              'user_id', ARGV[4], 'account_id', account, 'odds', odds, 'payout', payout)
            redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. ARGV[4] .. ':' .. account)
            redis.call('RPUSH', KEYS[7], ARGV[1])
            redis.call('HINCRBY', KEYS[1], 'bets', 1)
            redis.call('HINCRBY', KEYS[1], 'staked', ARGV[3])
            \(saveIdempotentRequest(key: 8, fingerprint: 6))
            return {'placed', account, odds, payout, now}
            """)

    /// Records an event's result and announces it on the events stream, once. The same result again
    /// changes nothing; a different one is refused. A catalogue event stops taking bets with it, and
    /// the event enters the index of unsettled events.
    ///
    /// An anonymous reporter (no token, no results key) may report only an event that carries no
    /// money. That is decided here, atomically with the report: an event carries money exactly when
    /// it is in the catalogue, because bets with money are taken only on catalogue events and a
    /// catalogue event with bets cannot be deleted (docs/ARCHITECTURE.md, "Who may report").
    ///
    /// KEYS: event hash, events stream, index of open catalogue events, index of unsettled events
    /// ARGV: result, reported_at (ms), event id, anonymous reporter ('1' or '0')
    /// Returns {'reported'} | {'unchanged'} | {'conflict', current result} | {'needs_operator'}
    public static let reportResult = RedisScript(
        name: "report_result",
        source: """
            #!lua
            local event = redis.call('HMGET', KEYS[1], 'result', 'catalogue')
            if ARGV[4] == '1' and event[2] then return {'needs_operator'} end
            local current = event[1]
            if current then
              if current == ARGV[1] then return {'unchanged'} end
              return {'conflict', current}
            end
            redis.call('HSET', KEYS[1], 'result', ARGV[1], 'reported_at', ARGV[2])
            if event[2] then redis.call('ZREM', KEYS[3], event[2]) end
            redis.call('XADD', KEYS[2], '*', 'event_id', ARGV[3], 'result', ARGV[1], 'reported_at', ARGV[2])
            redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
            return {'reported'}
            """)

    /// Settles one batch of an event's bets, and pays the winners with money.
    ///
    /// The event hash keeps `settle_pos`, how far down the event's bet list settlement has come; the
    /// caller says which position its batch starts at, and the script applies it only if that is
    /// still true. A redelivered entry, a second worker or a retry after a crash therefore settles
    /// (and pays) nothing twice: a stale batch changes nothing and the caller learns the real
    /// position. Bets below `settle_pos` are settled and bets from it on are pending, because only
    /// this script changes a bet's status and it moves `settle_pos` in the same step.
    ///
    /// The caller reads the batch's entries from the list (positions in it never change: the list is
    /// append-only) and passes the keys they name in KEYS: each bet's hash, then, for each bet with
    /// money in list order, its user's accounts and ledger. The script checks every key against the
    /// list, so a misaligned or foreign batch is refused whole. A won bet with money is credited its
    /// payout with a payout transaction in the same step that marks it won. A call without bets only
    /// reports where settlement stands.
    ///
    /// Redis does not roll a script back, so everything the writes need is read and checked before
    /// the first one: each bet is pending; each payout to credit is a whole number of cents, each
    /// balance it goes to exists and is one, each ledger is a stream; and the event's counters are
    /// whole numbers (checked on every call). A batch failing any of that is refused whole
    /// (`BATCH_INVALID`) and nothing is written, so its stream entry is retried and then
    /// dead-lettered without paying anybody twice.
    ///
    /// Once the event is settled to the end it gets `settled_at` and leaves the index of unsettled
    /// events.
    ///
    /// KEYS: event hash, event bet list, index of unsettled events, bet hashes..., (user accounts, user ledger)...
    /// ARGV: result, position of the batch, settled_at (ms), key prefix, number of bets, event id
    /// Returns {'applied' | 'stale', position, total bets, finished (0|1), won, lost, paid out (cents)}
    /// Errors: RESULT_MISMATCH (the entry's result is not the event's), STALE_BATCH (not the bets at
    /// that position), BATCH_INVALID (a bet, payout, balance, ledger or counter the batch needs is damaged)
    public static let settleBatch = RedisScript(
        name: "settle_batch",
        source: """
            #!lua
            local event = KEYS[1]
            local state = redis.call('HMGET', event, 'result', 'settle_pos', 'settled_at', 'won', 'lost', 'paid')
            if state[1] ~= ARGV[1] then
              return redis.error_reply('RESULT_MISMATCH the event result is ' .. tostring(state[1]) .. ', not ' .. ARGV[1])
            end
            for field = 4, 6 do
              if state[field] and not string.match(state[field], '^%d+$') then
                return redis.error_reply('BATCH_INVALID the event counter ' .. field .. ' is ' .. state[field])
              end
            end
            local position = tonumber(state[2] or '0')
            local count = tonumber(ARGV[5])
            local prefix = ARGV[4]
            local outcome = 'stale'
            if count > 0 and position == tonumber(ARGV[2]) then
              local entries = redis.call('LRANGE', KEYS[2], position, position + count - 1)
              local wallets = {}
              local walletKey = 3 + count
              for i = 1, count do
                local entry = entries[i] or ''
                local id, owner = entry, nil
                local colon = string.find(entry, ':', 1, true)
                if colon then
                  id = string.sub(entry, 1, colon - 1)
                  local user, account = string.match(entry, '^[^:]+:(%d+):(%d+)$')
                  owner = '{u:' .. tostring(user) .. '}'
                  if KEYS[walletKey + 1] ~= prefix .. owner .. ':accounts' or KEYS[walletKey + 2] ~= prefix .. owner .. ':ledger' then
                    return redis.error_reply('STALE_BATCH the wallet keys of ' .. entry .. ' are not ' .. tostring(KEYS[walletKey + 1]))
                  end
                  wallets[i] = {walletKey + 1, walletKey + 2, account}
                  walletKey = walletKey + 2
                end
                if KEYS[3 + i] ~= prefix .. 'bet:' .. id then
                  return redis.error_reply('STALE_BATCH ' .. KEYS[3 + i] .. ' is not the bet at position ' .. (position + i - 1))
                end
              end
              if walletKey ~= #KEYS then return redis.error_reply('STALE_BATCH ' .. #KEYS .. ' keys for ' .. walletKey) end
              local status = (ARGV[1] == 'WIN') and 'won' or 'lost'
              -- Every read and check the writes need, before the first write.
              local payouts = {}
              local ledgers = {}
              for i = 1, count do
                -- One HGET per bet: the status is all an anonymous bet needs, and this read is most
                -- of what the check costs.
                local current = redis.call('HGET', KEYS[3 + i], 'status')
                if current ~= 'pending' then
                  return redis.error_reply('BATCH_INVALID ' .. KEYS[3 + i] .. ' is ' .. tostring(current) .. ', not pending')
                end
                local wallet = wallets[i]
                if wallet and status == 'won' then
                  local payout = redis.call('HGET', KEYS[3 + i], 'payout')
                  if not payout or not string.match(payout, '^%d+$') or #payout > 15 then
                    return redis.error_reply('BATCH_INVALID the payout of ' .. KEYS[3 + i] .. ' is ' .. tostring(payout))
                  end
                  local balance = redis.call('HGET', KEYS[wallet[1]], wallet[3])
                  if not balance or not string.match(balance, '^%-?%d+$') then
                    return redis.error_reply('BATCH_INVALID account ' .. wallet[3] .. ' in ' .. KEYS[wallet[1]] .. ' has balance ' .. tostring(balance))
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
                redis.call('HSET', KEYS[3 + i], 'status', status, 'settled_at', ARGV[3])
                local payout = payouts[i]
                if payout then
                  local wallet = wallets[i]
                  local balance = redis.call('HINCRBY', KEYS[wallet[1]], wallet[3], payout)
                  redis.call('XADD', KEYS[wallet[2]], '*', 'type', 'payout', 'account_id', wallet[3], 'amount', payout,
                    'balance', balance, 'bet_id', string.sub(KEYS[3 + i], #prefix + 5))
                  paid = paid + tonumber(payout)
                end
              end
              redis.call('HINCRBY', event, status, count)
              if paid > 0 then redis.call('HINCRBY', event, 'paid', string.format('%.0f', paid)) end
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
            local counts = redis.call('HMGET', event, 'won', 'lost', 'paid')
            return {outcome, position, total, finished, tonumber(counts[1] or '0'), tonumber(counts[2] or '0'), tonumber(counts[3] or '0')}
            """)

    /// Reads many bets in one call (a page of a listing): one command and one reply instead of one
    /// per bet, which is most of what a listing costs the API.
    ///
    /// KEYS: bet hashes
    /// Returns one array of `Bet.storedFields` per key (nil fields if missing)
    public static let readBets = RedisScript(
        name: "read_bets",
        source: """
            #!lua flags=no-writes
            local bets = {}
            for i = 1, #KEYS do
              bets[i] = redis.call('HMGET', KEYS[i], 'event_id', 'amount', 'status', 'created_at', 'settled_at',
                'user_id', 'account_id', 'odds', 'payout')
            end
            return bets
            """)

    /// The length of a list and its last entries, read together so that positions computed from the
    /// length name the entries returned (the first page of a listing).
    ///
    /// KEYS: list
    /// ARGV: how many entries
    /// Returns {length, entries}
    public static let readTail = RedisScript(
        name: "read_tail",
        source: """
            #!lua flags=no-writes
            local count = tonumber(ARGV[1])
            return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], -count, -1)}
            """)

    /// Moves a stream entry the workers gave up on to the dead-letter stream and acknowledges it, in
    /// one step, so it is neither lost nor handled again. An entry given up on after too many
    /// deliveries "parks" its event (unless it is settled meanwhile): the event leaves the index of
    /// unsettled events, so the worker does not queue it again and again, and its hash names the
    /// dead letter (`parked`) until an administrator re-drives it (`retry_dead_letter`).
    ///
    /// KEYS: events stream, dead-letter stream [, index of unsettled events, event hash (to park)]
    /// ARGV: group, entry id, reason, deliveries, dead-letter max length, event id to park or '',
    ///       then the entry's field/value pairs
    /// Returns the number of entries acknowledged (0 or 1)
    public static let deadLetter = RedisScript(
        name: "dead_letter",
        source: """
            #!lua
            local park = ARGV[6] ~= '' and KEYS[4] ~= nil
            local settled = park and redis.call('HGET', KEYS[4], 'settled_at')
            local fields = {'entry_id', ARGV[2], 'reason', ARGV[3], 'deliveries', ARGV[4]}
            for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
            local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
            if park and not settled then
              redis.call('ZREM', KEYS[3], ARGV[6])
              redis.call('HSET', KEYS[4], 'parked', id)
            end
            return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            """)

    /// Every script, for loading ahead and for readiness checks.
    public static var all: [RedisScript] {
        [placeBet, placeWalletBet, reportResult, settleBatch, readBets, readTail, deadLetter] + queueScripts + walletScripts
    }
}
