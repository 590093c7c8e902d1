import RedisClient

extension Scripts {
    /// Reads many bets in one call (a page of a listing): one command and one reply instead of one
    /// per bet. Each bet comes back as one string rather than nine: building and parsing nine replies
    /// per bet was most of what a listing cost the API (docs/PERFORMANCE.md).
    ///
    /// KEYS: bet hashes
    /// ARGV: none
    /// Returns per key the `BetStore.storedFields` joined by spaces, an absent field empty (all empty
    /// for a missing bet); `BetStore.unpack` reads it
    public static let readBets = RedisScript(
        name: "read_bets",
        source: """
            #!lua flags=no-writes
            local bets = {}
            for i = 1, #KEYS do
              local fields = redis.call('HMGET', KEYS[i], 'event_id', 'amount', 'status', 'created_at', 'settled_at',
                'user_id', 'account_id', 'odds', 'payout')
              for j = 1, 9 do
                if not fields[j] then fields[j] = '' end
              end
              bets[i] = table.concat(fields, ' ')
            end
            return bets
            """)
}
