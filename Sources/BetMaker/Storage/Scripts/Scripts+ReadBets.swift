import RedisClient

extension Scripts {
    /// Reads the bets a listing's `MGET` did not find as strings: a bet still stored as a hash (from
    /// before the packed format, see `RedisKeys.bet`) comes back packed, so `BetStore.unpack` reads
    /// every bet; a bet converted since the `MGET` comes back as stored. Only this fallback needs a
    /// script: once the worker has converted the old hashes, a page is one `MGET`.
    ///
    /// KEYS: bets
    /// ARGV: none
    /// Returns per key the packed bet, or nil when there is none. A key of another type fails the
    /// call (WRONGTYPE).
    public static let readBets = RedisScript(
        name: "read_bets",
        source: """
            #!lua flags=no-writes
            \(packHashBet)
            local bets = {}
            for i = 1, #KEYS do
              bets[i] = storedBet(KEYS[i])
            end
            return bets
            """)
}
