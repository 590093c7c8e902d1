import RedisClient

/// Revoked access tokens (`DELETE /auth`): each revoked token's id is kept under its user's hash tag
/// until the token would have expired, and every authenticated request reads it with the user.
extension AccountStore {
    /// The user a token names and whether the token is revoked, in one round trip (one hash slot).
    public func session(userID: Int, tokenID: String) async throws -> (user: User?, revoked: Bool) {
        let replies = try await redis.pipeline([
            RedisCommand("HMGET", arguments: [keys.user(userID)] + User.storedFields),
            RedisCommand("EXISTS", arguments: [keys.revokedToken(userID: userID, tokenID: tokenID)]),
        ])
        guard replies.count == 2 else { throw RedisError.unexpectedReply(command: "HMGET", reply: "\(replies.count) replies") }
        let user = User(id: userID, fields: try replies[0].get().optionalStrings(for: "HMGET"))
        return (user, try replies[1].get().int(for: "EXISTS") > 0)
    }

    /// Revokes a token until it expires (`expiresAt`, ms since 1970); one already expired needs nothing.
    public func revoke(userID: Int, tokenID: String, expiresAt: Int64, now: Int64 = currentMilliseconds()) async throws {
        guard expiresAt > now else { return }
        _ = try await redis.set(keys.revokedToken(userID: userID, tokenID: tokenID), to: "1", expiry: .milliseconds(expiresAt - now))
    }
}
