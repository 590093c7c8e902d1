import RedisClient

extension Scripts {
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
}
