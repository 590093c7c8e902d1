import RedisClient

extension Scripts {
    /// Reads many bets in one call (a page of a listing): one command and one reply instead of one
    /// per bet, which is most of what a listing costs the API.
    ///
    /// KEYS: bet hashes
    /// ARGV: none
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
}
