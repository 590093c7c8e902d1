import RedisClient

/// The version of the Redis layout this build reads and writes (`RedisKeys`, the scripts). Redis keeps
/// the version of the data it holds (`RedisKeys.schema`); a process refuses to work on data of another
/// version, or on bet-maker data written before versions existed, rather than misread it. A format
/// change raises the version; the first one after a release comes with a migration command.
public enum StorageSchema {
    /// 2: an event's bettors (`RedisKeys.eventBettors`), which `take_event` relies on, and the accepted
    /// webhook signatures (`RedisKeys.paymentSignature`); data of 1 lacks them.
    /// 3: trades accepted pending (`RedisKeys.pendingTrades`), their terms with the tick they were
    /// accepted after (`Trade.Terms`); a trade of 2 does not read.
    /// 4: keys tagged by owner for Redis Cluster (issue 30): an event's keys, the results stream, dead
    /// letters, the unsettled, catalogue and anonymous bets indexes under the shard tags `{sh:<n>}`, with
    /// the shard count (`RedisKeys.schemaShards`); global keys under `{g}`; payments claimed on `{g}` and
    /// recorded on their user's slot; contacts and the ESP outbox by shard.
    /// Money across slots (`Wallet`): holds, released holds and credited ids on the user's slot,
    /// credits outboxes, Idempotency-Key records of bets with money on the user's slot.
    /// A symbol's under `{sym:<symbol>}`, trade ids
    /// `<symbol>~<serial>` (`TradeID`), trade credits in the symbol's outbox.
    public static let version = 4

    public enum Verdict: Sendable, Equatable {
        /// The data is of this build's version (or the store was empty and is now marked so).
        case current
        /// The data is of another version: the text found.
        case other(String)
        /// bet-maker data without a version: written by a development build before versions existed.
        case unversioned
        /// The data is of this version but split into another number of shards: the count found.
        case otherShards(String)
    }

    /// Reads the store's version and shard count; an empty store is claimed for this build's version
    /// and the configured shard count (`SET NX` each, so processes starting together agree: the first
    /// count claimed stands) unless `claim` is false (a read-only command). Keys that every store in use
    /// holds one of tell an unversioned store from an empty one.
    public static func check(redis: some RedisCommandSender, keys: RedisKeys, claim: Bool = true) async throws -> Verdict {
        let verdict = try await checkVersion(redis: redis, keys: keys, claim: claim)
        guard verdict == .current else { return verdict }
        var found = try await redis.get(keys.schemaShards)
        if found == nil, claim {
            // A store claimed a moment ago, or by a process that stopped between the two claims.
            _ = try await redis.set(keys.schemaShards, to: String(keys.shards), condition: .ifNotExists)
            found = try await redis.get(keys.schemaShards)
        }
        guard let found, found != String(keys.shards) else { return .current }
        return .otherShards(found)
    }

    private static func checkVersion(redis: some RedisCommandSender, keys: RedisKeys, claim: Bool) async throws -> Verdict {
        for _ in 0..<2 {
            if let found = try await redis.get(keys.schema) {
                return found == String(version) ? .current : .other(found)
            }
            // One EXISTS per key: the keys may live on different nodes of a cluster.
            let sentinels = [keys.allBets(shard: 0), keys.eventsStream(shard: 0), keys.userIDs, keys.catalogue(shard: 0), keys.feed]
            for reply in try await redis.pipeline(sentinels.map { RedisCommand("EXISTS", $0) }) where try reply.get().int(for: "EXISTS") > 0
            {
                return .unversioned
            }
            if !claim { return .current }
            if try await redis.set(keys.schema, to: String(version), condition: .ifNotExists) { return .current }
        }
        throw RedisError.unexpectedReply(command: "SET NX", reply: "\(keys.schema) was claimed and removed again")
    }

    /// What to tell an operator about a verdict other than `current`.
    public static func refusal(_ verdict: Verdict, keys: RedisKeys) -> String? {
        switch verdict {
        case .current:
            return nil
        case .other(let found):
            return "Redis holds bet-maker data of storage schema \(found) (\(keys.schema)); this build reads schema \(version). "
                + "Run a build of schema \(found), or move the data to schema \(version) with that build's migration command."
        case .otherShards(let found):
            return "Redis holds bet-maker data split into \(found) shards (\(keys.schemaShards)), but this process is configured "
                + "with REDIS_SHARDS=\(keys.shards). An event's keys depend on the count: set REDIS_SHARDS=\(found) for this store."
        case .unversioned:
            return "Redis holds bet-maker data without a storage schema version (no \(keys.schema)): it was written by a "
                + "development build before schema \(version). Nothing of it is readable here; remove it (`make run`: stop "
                + "it and delete var/redis) or point this build at a Redis (or KEY_PREFIX) of its own."
        }
    }
}
