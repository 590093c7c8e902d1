import RedisClient

/// Pages of several append-only lists (one per shard, `RedisKeys.allBets(shard:)`) merged newest
/// first, as `GET /bets` lists the anonymous bets. The cursor is a position in each list, joined by
/// `.` (`120.0.37.5`): positions never move, so a listing stays right while entries are appended. With
/// one list it is `NewestFirstPages`, cursor and all.
///
/// Each list is in the order its entries were accepted; the merge takes the newest head of all lists
/// by `isNewer` (for bets their ids' time-ordered serials), so each list's own order is kept and the
/// shards interleave by time.
public struct ShardedPages {
    let redis: RedisClient
    let lists: [String]
    let isNewer: (String, String) -> Bool

    /// True when `cursor` has the shape a page of `shards` lists hands out.
    public static func isValidCursor(_ cursor: String, shards: Int) -> Bool {
        let positions = cursor.split(separator: ".", omittingEmptySubsequences: false)
        return positions.count == shards && positions.allSatisfy { NewestFirstPages.isValidCursor(String($0)) }
    }

    /// Up to `limit` items before the cursor's positions (from the ends when nil), newest first, and the
    /// next page's cursor (nil once every list is read to its start). As `NewestFirstPages.page`: at most
    /// `NewestFirstPages.maximumWindows` windows, so a filtering `items` may leave a page short.
    func page<Item>(
        limit: Int, cursor: String?, items: ([String]) async throws -> [Item]
    ) async throws -> (items: [Item], nextCursor: String?) {
        if lists.count == 1 {
            return try await NewestFirstPages(redis: redis, list: lists[0]).page(limit: limit, cursor: cursor, items: items)
        }
        // ends[s]: the position before which list s is not consumed; buffers[s]: entries read just
        // before ends[s], oldest first.
        var ends: [Int]
        var buffers: [[String]]
        if let cursor {
            guard Self.isValidCursor(cursor, shards: lists.count) else { return ([], nil) }
            ends = cursor.split(separator: ".").map { Int(decimalDigits: String($0)) ?? 0 }
            buffers = Array(repeating: [], count: lists.count)
        } else {
            // Each list's length and newest entries in one atomic read, so the positions agree.
            let replies = try await redis.pipeline(
                lists.map { Scripts.readTail.evalCommand(keys: [$0], arguments: [String(limit)]) })
            ends = []
            buffers = []
            for reply in replies {
                let tail = try reply.get().array(for: "read_tail")
                guard tail.count == 2 else { throw RedisError.unexpectedReply(command: "read_tail", reply: "\(tail)") }
                ends.append(try tail[0].int(for: "read_tail"))
                buffers.append(try tail[1].strings(for: "read_tail"))
            }
        }
        var found: [Item] = []
        for _ in 0..<NewestFirstPages.maximumWindows {
            let need = limit - found.count
            guard need > 0, ends.contains(where: { $0 > 0 }) else { break }
            // Every list holds at least `need` entries (or all it has left) before merging, so a list
            // runs dry within a round only once it is read to its start.
            let short = lists.indices.filter { buffers[$0].count < need && ends[$0] > buffers[$0].count }
            if !short.isEmpty {
                let replies = try await redis.pipeline(
                    short.map { shard in
                        let stop = ends[shard] - buffers[shard].count
                        return RedisCommand("LRANGE", lists[shard], max(0, stop - (need - buffers[shard].count)), stop - 1)
                    })
                for (shard, reply) in zip(short, replies) {
                    buffers[shard] = try reply.get().strings(for: "LRANGE") + buffers[shard]
                }
            }
            var taken: [String] = []
            while taken.count < need {
                var newest: Int?
                for shard in lists.indices {
                    guard let head = buffers[shard].last else { continue }
                    if let best = newest, let bestHead = buffers[best].last, !isNewer(head, bestHead) { continue }
                    newest = shard
                }
                guard let shard = newest else { break }
                taken.append(buffers[shard].removeLast())
                ends[shard] -= 1
            }
            if taken.isEmpty { break }
            found += try await items(taken)
        }
        return (found, ends.contains(where: { $0 > 0 }) ? ends.map(String.init).joined(separator: ".") : nil)
    }
}
