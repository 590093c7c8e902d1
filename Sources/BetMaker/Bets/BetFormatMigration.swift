import RedisClient

/// Converts the bets stored as hashes, before each bet became one string (`RedisKeys.bet`), into
/// that string, in bounded steps: one `SCAN ... TYPE hash` page of bet keys, then one `pack_bets`
/// call for the hashes on it. The worker runs it at every start-up, so an installation upgraded in
/// place converts itself (docs/ARCHITECTURE.md, "Redis layout"). Until a bet is converted the
/// readers and `settle_batch` read its hash, so nothing waits for it; two workers converting at once
/// is harmless, since `pack_bets` converts only what is still a hash.
public struct BetFormatMigration: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// Keys `SCAN` looks at per step, and so the most one `pack_bets` call converts.
    public let batchSize: Int

    public init(redis: RedisClient, keys: RedisKeys, batchSize: Int = 500) {
        self.redis = redis
        self.keys = keys
        self.batchSize = batchSize
    }

    public struct Report: Sendable, Equatable {
        public var converted = 0
        /// Hashes left as they were, because packing them would lose something (a field missing,
        /// empty or holding a space, an unknown status): the invariant checker names what.
        public var kept: [String] = []
    }

    /// One pass over the keyspace. A hash written while it runs (by an API process from before the
    /// upgrade) may be missed; the next start converts it.
    public func run() async throws -> Report {
        var report = Report()
        var cursor = "0"
        repeat {
            let page = try await redis.send(
                RedisCommand("SCAN", cursor, "MATCH", keys.bet("") + "*", "COUNT", batchSize, "TYPE", "hash")
            ).array(for: "SCAN")
            guard page.count == 2 else { throw RESPValue.array(page).unexpected("SCAN") }
            cursor = try page[0].string(for: "SCAN")
            let found = try page[1].strings(for: "SCAN")
            guard !found.isEmpty else { continue }
            let reply = try await redis.eval(Scripts.packBets, keys: found).array(for: "pack_bets")
            guard let converted = reply.first else { throw RESPValue.array(reply).unexpected("pack_bets") }
            report.converted += try converted.int(for: "pack_bets")
            report.kept += try reply.dropFirst().map { try $0.string(for: "pack_bets") }
        } while cursor != "0"
        return report
    }
}
