import RedisClient

extension Scripts {
    /// Voids a pending or open trade (an administrator's call, for a trade that cannot be priced: the
    /// feed died for good, or the symbol was delisted): the status `void` with the reason, the stake owed
    /// back as a refund in the symbol's credits outbox (`RedisKeys.tradeCredits`: the worker's credit
    /// relay pays it into the owner's account, once), and the trade out of its symbol's pending, due and
    /// open sets and open-trade terms, in one step on the symbol's slot. A trade that is no longer open
    /// (closed by a tick, or voided already) is left as it is; `close_trades` likewise skips a trade that
    /// is no longer open, so a void and a close racing each other give exactly one outcome and one credit.
    /// The caller names the keys from the trade id; the script checks they are the trade's, so a wrong
    /// key refuses before any write.
    ///
    /// The live feed is not the symbol's: the reply names the symbol and the owner, and the caller
    /// appends the feed entry so the player's trade screen shows the void without a reload.
    ///
    /// KEYS: trade hash, due set, open set (up), open set (down), the symbol's open-trade terms, the
    ///       symbol's pending set, the symbol's credits outbox
    /// ARGV: trade id, reason, key prefix
    /// Returns {'voided', symbol, owner} | {'missing'} | {'not_open', status}
    /// Everything the writes need is checked before the first one (Redis does not roll a script back):
    /// the sets are sorted sets, the terms a hash, the outbox a stream (or none of them there yet); else
    /// the void is refused (`STORAGE_INVALID`) and nothing changes.
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
            if not owner or type(owner) ~= 'string' or type(account) ~= 'string' then
              return redis.error_reply('KEYS_MISMATCH trade ' .. ARGV[1] .. ' has malformed terms')
            end
            local tag = ARGV[3] .. '{sym:' .. symbol .. '}:'
            if string.sub(ARGV[1], 1, #symbol + 1) ~= symbol .. '~' or KEYS[1] ~= tag .. 'trade:' .. string.sub(ARGV[1], #symbol + 2)
              or KEYS[2] ~= tag .. 'trades:due' or KEYS[3] ~= tag .. 'trades:open:up' or KEYS[4] ~= tag .. 'trades:open:down'
              or KEYS[5] ~= tag .. 'trades:terms' or KEYS[6] ~= tag .. 'trades:pending' or KEYS[7] ~= tag .. 'credits' then
              return redis.error_reply('KEYS_MISMATCH the keys are not those of trade ' .. ARGV[1])
            end
            \(checkTypes([(2, "zset"), (3, "zset"), (4, "zset"), (5, "hash"), (6, "zset"), (7, "stream")]))
            \(redisNow)
            -- The outcome as `Trade.outcomeField` packs it: no end tick, profit 0 (the payout is the stake).
            redis.call('HSET', KEYS[1], 'status', 'void', '\(Trade.outcomeField)', 'void ' .. now .. ' 0', 'void_reason', ARGV[2])
            redis.call('ZREM', KEYS[2], ARGV[1])
            redis.call('ZREM', KEYS[3], ARGV[1])
            redis.call('ZREM', KEYS[4], ARGV[1])
            redis.call('HDEL', KEYS[5], ARGV[1])
            redis.call('ZREM', KEYS[6], ARGV[1])
            redis.call('XADD', KEYS[7], '*', 'type', 'refund', 'credit_id', 'trade:' .. ARGV[1], 'user_id', owner,
              'account_id', account, 'amount', string.format('%d', stake), 'trade_id', ARGV[1])
            return {'voided', symbol, owner}
            """)
}
