import RedisClient

/// Pass 2 of the invariant checker: the bets that no event list holds.
extension InvariantChecker.Scan {
    mutating func checkUnlistedBets() async throws {
        var page: [BetID] = []
        for node in try await redis.masters() {
            var cursor = "0"
            repeat {
                let found = try await scanPage(cursor, matching: eventKeysPattern + "}:bet:*", on: node)
                cursor = found.cursor
                // Only bets missing from the lists are read again; in a sound store that is none.
                for key in found.keys {
                    guard let id = Self.betID(key: key), !listed.contains(id), unlisted.insert(id).inserted else {
                        continue
                    }
                    page.append(id)
                }
                if page.count >= checker.pageSize {
                    try await checkUnlisted(page)
                    page.removeAll(keepingCapacity: true)
                }
            } while cursor != "0"
        }
        if !page.isEmpty { try await checkUnlisted(page) }
    }

    /// The bet a key `bm:{sh:<n>}:{ev:<event>}:bet:<serial>` holds.
    static func betID(key: String) -> BetID? {
        guard let rest = afterEventOpening(key) else { return nil }
        // Event ids hold no brace, so the first one closes the tag.
        guard let close = rest.firstIndex(of: "}") else { return nil }
        let after = rest[rest.index(after: close)...]
        guard after.hasPrefix(":bet:") else { return nil }
        return BetID(eventID: String(rest[..<close]), serial: String(after.dropFirst(":bet:".count)))
    }

    mutating func checkUnlisted(_ ids: [BetID]) async throws {
        let read = try await readBets(ids)
        for (offset, id) in ids.enumerated() {
            let betKey = keys.bet(id)
            let bet: BetRecord
            switch read[offset] {
            case .success(.record(let found)): bet = found
            case .success(.missing): continue  // gone since the scan found it
            case .failure(let error):
                record(.wrongType, betKey, "cannot be read as a bet: \(error)")
                unreadable.insert(id)
                continue
            }
            for problem in bet.problems { record(.invalidBet, betKey, problem) }
            if let eventID = bet.eventID, eventID != id.eventID {
                record(.invalidBet, betKey, "event_id is \(eventID), not the event of its key")
            }
            remember(id, bet)
            record(.betNotListed, betKey, "is not in the list of its event \(id.eventID) (\(keys.eventBets(id.eventID)))")
        }
    }
}
