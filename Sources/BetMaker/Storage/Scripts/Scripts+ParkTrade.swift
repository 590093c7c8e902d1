import RedisClient

extension Scripts {
    /// Parks an open trade that `close_trades` refused at its closing tick (its owner's balance or
    /// ledger is damaged, its hash holds something else): takes it out of its symbol's due and open sets,
    /// so the worker closes the symbol's other trades and moves its tick cursor on, and records a dead
    /// letter (`RedisKeys.tradeDeadLetters`) with the step, the tick and the reason, for an administrator
    /// to re-drive once the cause is repaired. The trade stays open, its stake held and its terms in the
    /// symbol's open-trade terms. A trade that is no longer open (closed or voided meanwhile) is left as it is.
    ///
    /// Every key is the symbol's (one hash slot on Redis Cluster).
    ///
    /// KEYS: due set, open set (up), open set (down), the symbol's open-trade terms, the symbol's dead letters
    /// ARGV: trade id, step ('expiry'|'stop_out'), tick id, tick price, reason, symbol, key prefix
    /// Returns {'parked'} | {'not_open'}
    /// Errors: KEYS_MISMATCH (the keys are not the symbol's)
    public static let parkTrade = RedisScript(
        name: "park_trade",
        source: """
            #!lua
            local id, symbol, prefix = ARGV[1], ARGV[6], ARGV[7]
            local tag = prefix .. '{sym:' .. symbol .. '}:'
            if KEYS[1] ~= tag .. 'trades:due' or KEYS[2] ~= tag .. 'trades:open:up' or KEYS[3] ~= tag .. 'trades:open:down'
              or KEYS[4] ~= tag .. 'trades:terms' or KEYS[5] ~= tag .. 'trades:dead' then
              return redis.error_reply('KEYS_MISMATCH the keys are not those of ' .. symbol)
            end
            if ARGV[2] ~= 'expiry' and ARGV[2] ~= 'stop_out' then return redis.error_reply('KEYS_MISMATCH step ' .. ARGV[2]) end
            if redis.call('HEXISTS', KEYS[4], id) == 0 then return {'not_open'} end
            \(checkTypes([(1, "zset"), (2, "zset"), (3, "zset"), (5, "hash")]))
            \(redisNow)
            redis.call('ZREM', KEYS[1], id)
            redis.call('ZREM', KEYS[2], id)
            redis.call('ZREM', KEYS[3], id)
            redis.call('HSET', KEYS[5], id, ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. now .. ' ' .. ARGV[5])
            return {'parked'}
            """)
}
