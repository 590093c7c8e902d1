import RedisClient

extension Scripts {
    /// Converts bets stored as hashes (before the packed format) into the string `RedisKeys.bet`
    /// describes, for `BetFormatMigration`. Idempotent and safe with two workers at once: a key that
    /// is a string already, or gone, is left alone. A hash whose fields cannot be packed without loss
    /// (a field missing, empty or holding a space, an unknown status) is left as it is and named in
    /// the reply: readers still read it, and the invariant checker reports what is wrong with it.
    /// Everything is read before the first write.
    ///
    /// KEYS: bets
    /// ARGV: none
    /// Returns {number converted, keys left as hashes...}
    public static let packBets = RedisScript(
        name: "pack_bets",
        source: """
            #!lua
            \(packHashBet)
            local packed = {}
            local kept = {}
            for i = 1, #KEYS do
              if redis.call('TYPE', KEYS[i]).ok == 'hash' then
                local text, sound = packHashBet(KEYS[i])
                if sound then packed[#packed + 1] = {KEYS[i], text} else kept[#kept + 1] = KEYS[i] end
              end
            end
            for _, bet in ipairs(packed) do redis.call('SET', bet[1], bet[2]) end
            return {#packed, unpack(kept)}
            """)
}
