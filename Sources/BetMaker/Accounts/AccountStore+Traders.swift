import RedisClient

/// The traders index (`RedisKeys.traders`, kept by `update_user`) and users by id, for the pages and
/// routes that name people by login rather than by id.
extension AccountStore {
    /// The users with the trader role by id, `limit` at most, after user `cursor`, each with its current
    /// status (an administrator assigns events to the active ones).
    public func traders(limit: Int, after cursor: Int?) async throws -> (traders: [User], nextCursor: Int?) {
        let ids = try await redis.zrangeByScore(
            keys.traders, min: cursor.map { .exclusive(Double($0)) } ?? .negativeInfinity, max: .positiveInfinity, limit: (0, limit + 1)
        ).compactMap { Int($0.member) }
        let page = Array(ids.prefix(limit))
        let users = try await self.users(ids: page)
        // A user whose hash is gone (or no longer a trader, should the index ever lag) is left out.
        return (page.compactMap { users[$0] }.filter { $0.role == .trader }, ids.count > limit ? page.last : nil)
    }

    /// The users with these ids that exist, in one round trip.
    public func users(ids: some Collection<Int>) async throws -> [Int: User] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        let replies = try await redis.pipeline(unique.map { RedisCommand("HMGET", arguments: [keys.user($0)] + User.storedFields) })
        var users: [Int: User] = [:]
        for (id, reply) in zip(unique, replies) {
            if let user = User(id: id, fields: try reply.get().optionalStrings(for: "HMGET")) { users[id] = user }
        }
        return users
    }
}
