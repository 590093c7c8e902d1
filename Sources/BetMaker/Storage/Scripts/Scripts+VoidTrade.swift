import RedisClient

extension Scripts {
    /// Voids a pending or open trade (an administrator's call, for a trade that cannot be priced: the
    /// feed died for good, or the symbol was delisted): the status `void` with the reason, the stake back
    /// to its account as a refund transaction naming the trade, and the trade out of its symbol's
    /// pending, due and open sets and open-trade terms, in one step. A trade that is no longer open (closed by a tick, or voided
    /// already) is left as it is; `close_trades` likewise skips a trade that is no longer open, so a
    /// void and a close racing each other give exactly one outcome. The caller reads the trade first to
    /// name its keys; the script checks they are the trade's, so a wrong key refuses before any write.
    ///
    /// A voided trade appends one entry to the live feed (`RedisKeys.feed`, capped), as `close_trades`
    /// does for the trades it closes: `type` `trades`, the symbol and the owner, so the player's
    /// trade screen shows the void without a reload.
    ///
    /// KEYS: trade hash, due set, open set (up), open set (down), user's accounts, user's ledger, the feed,
    ///       the symbol's open-trade terms, the symbol's pending set
    /// ARGV: trade id, reason, key prefix, the feed's length cap
    /// Returns {'voided'} | {'missing'} | {'not_open', status}
    /// Everything the writes need is checked before the first one (Redis does not roll a script back):
    /// the balance is an integer, the ledger a stream, the sets sorted sets, the feed a stream (or none
    /// of them there yet); else the void is refused (`STORAGE_INVALID`) and nothing changes, rather than
    /// refund without a ledger entry.
    ///
    /// Errors: KEYS_MISMATCH (the keys are not the trade's), STORAGE_INVALID (a key the writes need holds something else)
    public static let voidTrade = RedisScript(
        name: "void_trade",
        source: """
            #!lua
            local t = redis.call('HMGET', KEYS[1], 'status', '\(Trade.Terms.field)')
            if not t[1] then return {'missing'} end
            if t[1] ~= 'open' and t[1] ~= 'pending' then return {'not_open', t[1]} end
            \(tradeTerms)
            local owner, account, symbol, _, stake = tradeTerms(t[2])
            if not owner then return redis.error_reply('KEYS_MISMATCH trade ' .. ARGV[1] .. ' has malformed terms') end
            local prefix = ARGV[3]
            if KEYS[1] ~= prefix .. 'trade:' .. ARGV[1] or KEYS[2] ~= prefix .. 'trades:due:' .. symbol
              or KEYS[3] ~= prefix .. 'trades:open:' .. symbol .. ':up' or KEYS[4] ~= prefix .. 'trades:open:' .. symbol .. ':down'
              or KEYS[5] ~= prefix .. '{u:' .. owner .. '}:accounts' or KEYS[6] ~= prefix .. '{u:' .. owner .. '}:ledger'
              or KEYS[8] ~= prefix .. 'trades:terms:' .. symbol or KEYS[9] ~= prefix .. 'trades:pending:' .. symbol then
              return redis.error_reply('KEYS_MISMATCH the keys are not those of trade ' .. ARGV[1])
            end
            local balance = redis.call('HGET', KEYS[5], account)
            if not balance then return redis.error_reply('KEYS_MISMATCH no account ' .. account) end
            if not string.match(balance, '^%-?%d+$') then
              return redis.error_reply('STORAGE_INVALID account ' .. account .. ' in ' .. KEYS[5] .. ' is no balance')
            end
            \(checkTypes([(2, "zset"), (3, "zset"), (4, "zset"), (6, "stream"), (8, "hash"), (9, "zset")]))
            local feed = redis.call('TYPE', KEYS[7]).ok
            if feed ~= 'stream' and feed ~= 'none' then return redis.error_reply('KEYS_MISMATCH the feed is a ' .. feed) end
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: no end tick, profit 0 (the payout is the stake).
            redis.call('HSET', KEYS[1], 'status', 'void', '\(Trade.outcomeField)', 'void ' .. now .. ' 0', 'void_reason', ARGV[2])
            redis.call('ZREM', KEYS[2], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            redis.call('ZREM', KEYS[4], ARGV[1])
            redis.call('HDEL', KEYS[8], ARGV[1])
            redis.call('ZREM', KEYS[9], ARGV[1])
            local balance = redis.call('HINCRBY', KEYS[5], account, stake)
            redis.call('XADD', KEYS[6], '*', 'type', 'refund', 'account_id', account, 'amount', stake, 'balance', balance,
              'trade_id', ARGV[1])
            redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[4], '*', 'type', 'trades', 'symbol', symbol, 'users', owner)
            return {'voided'}
            """)
}
