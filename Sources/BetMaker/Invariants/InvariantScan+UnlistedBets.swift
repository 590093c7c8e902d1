import RedisClient

/// Pass 2 of the invariant checker: the bets that no event list holds.
extension InvariantChecker.Scan {
    mutating func checkUnlistedBets() async throws {
        let prefix = keys.bet("")
        var page: [String] = []
        var cursor = "0"
        repeat {
            let found = try await scanPage(cursor, matching: prefix + "*")
            cursor = found.cursor
            // Only bets missing from the lists are read again; in a sound store that is none.
            for key in found.keys {
                let id = String(key.dropFirst(prefix.count))
                guard !listed.contains(id), unlisted.insert(id).inserted else { continue }
                page.append(id)
            }
            if page.count >= checker.pageSize {
                try await checkUnlisted(page)
                page.removeAll(keepingCapacity: true)
            }
        } while cursor != "0"
        if !page.isEmpty { try await checkUnlisted(page) }
    }

    mutating func checkUnlisted(_ ids: [String]) async throws {
        let read = try await readBets(ids)
        for (offset, id) in ids.enumerated() {
            let betKey = keys.bet(id)
            let bet: BetRecord
            switch read[offset] {
            case .success(.record(let found)): bet = found
            case .success(.missing): continue  // gone since the scan found it
            case .success(.noFields):
                record(.invalidBet, betKey, "has none of the bet fields")
                continue
            case .success(.unparsable(let text)):
                record(.invalidBet, betKey, "is not a bet: \"\(text)\"")
                unreadable.insert(id)
                continue
            case .failure(let error):
                record(.wrongType, betKey, "cannot be read as a bet: \(error)")
                unreadable.insert(id)
                continue
            }
            for problem in bet.problems { record(.invalidBet, betKey, problem) }
            remember(id, bet)
            if let eventID = bet.eventID {
                record(.betNotListed, betKey, "is not in the list of its event \(eventID) (\(keys.eventBets(eventID)))")
            } else {
                record(.betNotListed, betKey, "is in no event's list")
            }
        }
    }
}
