import RedisClient

/// Pass 3 of the invariant checker: the index of anonymous bets and each user's list of bets with
/// money; every bet in exactly the index its owner says, once.
extension InvariantChecker.Scan {
    /// Users with any key, and those in the users index.
    mutating func findUsers() async throws -> [Int] {
        let opening = String(keys.user(0).dropLast(2))  // "bm:{u:"
        var ids = Set<Int>()
        for key in try await scanAll(opening + "*") {
            let rest = key.dropFirst(opening.count)
            guard let close = rest.firstIndex(of: "}"), let id = Int(rest[..<close]) else { continue }
            ids.insert(id)
        }
        do {
            let indexed = try await redis.zrangeByScore(keys.users, min: .negativeInfinity, max: .positiveInfinity)
            for (member, score) in indexed {
                guard let id = Int(member), Double(id) == score else {
                    record(.invalidUser, keys.users, "holds \(member) with score \(score), not a user id scored by itself")
                    continue
                }
                ids.insert(id)
            }
        } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
            record(.wrongType, keys.users, "is not a sorted set")
        }
        return ids.sorted()
    }

    /// An index list: the anonymous bets (`owner` nil) or one user's bets.
    mutating func checkIndex(_ index: String, owner: Int?) async throws {
        var start = 0
        while true {
            let ids: [String]
            do {
                ids = try await redis.lrange(index, start, start + checker.pageSize - 1)
            } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                record(.wrongType, index, "is not a list")
                return
            }
            if ids.isEmpty { break }
            report.indexedBets += ids.count
            for (offset, text) in ids.enumerated() {
                guard let id = BetID(text), listed.contains(id) || unlisted.contains(id) else {
                    // A user's list names a bet from its hold on: one pending or voided never came to be.
                    if let owner, try await isHeldOrVoided(text, userID: owner) { continue }
                    record(.missingBet, index, "position \(start + offset) holds bet \(text), which has no hash")
                    continue
                }
                guard indexed.insert(id).inserted else {
                    record(.betIndexedTwice, index, "bet \(id) is indexed more than once (again at position \(start + offset))")
                    continue
                }
                let betOwner = walletBets[id]?.userID
                if betOwner != owner {
                    record(
                        .betInWrongIndex, index,
                        "holds bet \(id), which is \(betOwner.map { "user \($0)'s" } ?? "anonymous") (belongs in \(betOwner.map(keys.userBets) ?? keys.allBets(shard: keys.shard(of: id.eventID))))"
                    )
                }
            }
            start += ids.count
        }
    }

    /// Whether the user holds a stake for the reference, or held one and had it voided.
    func isHeldOrVoided(_ reference: String, userID: Int) async throws -> Bool {
        let replies = try await redis.pipeline([
            RedisCommand("HEXISTS", keys.holds(userID), reference), RedisCommand("HGET", keys.releasedHolds(userID), reference),
        ])
        return try replies[0].get().int(for: "HEXISTS") == 1 || replies[1].get().optionalString(for: "HGET") == "void"
    }

    mutating func checkEveryBetIndexed() {
        for id in listed.union(unlisted).sorted() where !indexed.contains(id) && !unreadable.contains(id) {
            let owner = walletBets[id]?.userID
            record(
                .betNotIndexed, keys.bet(id), "is not in \(owner.map(keys.userBets) ?? keys.allBets(shard: keys.shard(of: id.eventID))))")
        }
    }
}
