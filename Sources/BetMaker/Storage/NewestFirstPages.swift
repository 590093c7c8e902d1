import RedisClient

/// Pages of an append-only list read newest first, as `GET /bets` and `GET /trades` list: a cursor is
/// a position in the list, so it stays right while entries are appended after it.
public struct NewestFirstPages {
    let redis: RedisClient
    let list: String

    /// True when `cursor` has the shape a page hands out: a position in the list.
    public static func isValidCursor(_ cursor: String) -> Bool {
        Int(decimalDigits: cursor) != nil
    }

    /// How many windows of `limit` entries one page reads at most.
    public static let maximumWindows = 10

    /// Up to `limit` items before position `cursor` (from the end when nil), newest first, and the
    /// cursor of the next page. `items` turns a window of entries (newest first) into the items it
    /// keeps; a filter may keep fewer. At most `maximumWindows` windows are read, so a rare
    /// filter costs a bounded amount per request: its page may then be short, even empty, while its
    /// cursor goes on.
    func page<Item>(
        limit: Int, cursor: String?, items: ([String]) async throws -> [Item]
    ) async throws -> (items: [Item], nextCursor: String?) {
        var end: Int
        var entries: [String]
        if let position = cursor.flatMap({ Int(decimalDigits: $0) }) {
            end = position
            entries = end > 0 ? try await redis.lrange(list, max(0, end - limit), end - 1) : []
        } else {
            // The length and the newest entries in one atomic read, so the positions agree.
            let tail = try await redis.eval(Scripts.readTail, keys: [list], arguments: [String(limit)]).array(for: "read_tail")
            guard tail.count == 2 else { throw RedisError.unexpectedReply(command: "read_tail", reply: "\(tail)") }
            end = try tail[0].int(for: "read_tail")
            entries = try tail[1].strings(for: "read_tail")
        }
        var found: [Item] = []
        for window in 0..<Self.maximumWindows {
            if window > 0 {
                guard end > 0, found.count < limit else { break }
                entries = try await redis.lrange(list, max(0, end - (limit - found.count)), end - 1)
            }
            end -= entries.count
            found += try await items(Array(entries.reversed()))
            if entries.isEmpty || found.count >= limit { break }
        }
        return (found, end > 0 ? String(end) : nil)
    }
}
