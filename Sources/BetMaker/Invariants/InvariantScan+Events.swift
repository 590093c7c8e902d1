import RedisClient

/// Pass 1 of the invariant checker: every event, its list read in pages and the bets it names; the
/// index of unsettled events.
extension InvariantChecker.Scan {
    /// Every shard's index of unsettled events, read in pages (it holds only events waiting for settlement).
    mutating func readUnsettledIndex() async throws {
        for shard in keys.allShards {
            let index = keys.unsettledEvents(shard: shard)
            var start = 0
            while true {
                let members: [String]
                do {
                    members = try await redis.send(RedisCommand("ZRANGE", index, start, start + checker.pageSize - 1)).strings(
                        for: "ZRANGE")
                } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                    record(.wrongType, index, "is not a sorted set")
                    break
                }
                for member in members where keys.shard(of: member) != shard {
                    record(.unsettledIndexMismatch, index, "holds \(member), an event of shard \(keys.shard(of: member))")
                }
                unsettledIndex.formUnion(members)
                guard members.count == checker.pageSize else { break }
                start += members.count
            }
        }
    }

    /// Index members that name no event the scan found.
    mutating func checkUnsettledIndexMembers() {
        for member in unsettledIndex.sorted() where !events.contains(member) {
            record(.unsettledIndexMismatch, keys.unsettledEvents(shard: keys.shard(of: member)), "holds \(member), which is no event")
        }
    }

    mutating func checkEvents() async throws {
        var pending: [String] = []
        for key in try await scanAll(eventKeysPattern) {
            guard let rest = Self.afterEventOpening(key) else { continue }
            // Bets' keys match too (`bm:{sh:<n>}:{ev:<id>}:bet:<serial>`): pass 2 reads those.
            if rest.hasSuffix("}:bets") {
                pending.append(String(rest.dropLast(6)))
            } else if rest.hasSuffix("}") {
                pending.append(String(rest.dropLast()))
            }
        }
        // Checked after the scan: checking adds nothing to the keyspace, but the scan stays short.
        for eventID in pending where events.insert(eventID).inserted {
            try await checkEvent(eventID)
        }
    }

    /// Every key under an event: `bm:{sh:*}:{ev:*`.
    var eventKeysPattern: String { keys.prefix + "{sh:*}:{ev:*" }

    /// What follows `{ev:` in an event's key (`<id>}`, `<id>}:bets`, `<id>}:bet:<serial>`...).
    static func afterEventOpening(_ key: String) -> Substring? {
        key.firstRange(of: "}:{ev:").map { key[$0.upperBound...] }
    }

    mutating func checkEvent(_ eventID: String) async throws {
        let eventKey = keys.event(eventID)
        let listKey = keys.eventBets(eventID)
        let head = try await redis.pipeline([
            RedisCommand("HMGET", arguments: [eventKey] + InvariantChecker.eventFields), RedisCommand("LLEN", listKey),
        ])
        let fields: [String?]
        let length: Int
        do {
            fields = try head[0].get().optionalStrings(for: "HMGET")
        } catch {
            record(.wrongType, eventKey, "cannot be read as the event hash: \(error)")
            return
        }
        do {
            length = try head[1].get().int(for: "LLEN")
        } catch {
            record(.wrongType, listKey, "cannot be read as the event's bet list: \(error)")
            return
        }
        var result: EventResult?
        if let text = fields[0] {
            result = EventResult(rawValue: text)
            if result == nil { record(.invalidEvent, eventKey, "result \"\(text)\" is not WIN, LOSE or VOID") }
        }
        switch (fields[0], fields[1]) {
        case (.some, .none): record(.invalidEvent, eventKey, "result is set but reported_at is missing")
        case (.none, .some): record(.invalidEvent, eventKey, "reported_at is set but there is no result")
        case (_, .some(let text)) where Int64(text) == nil: record(.invalidEvent, eventKey, "reported_at \"\(text)\" is not a time")
        default: break
        }
        func number(_ index: Int) -> Int64 {
            guard let text = fields[index] else { return 0 }
            guard let value = Int64(text), value >= 0 else {
                record(.invalidEvent, eventKey, "\(InvariantChecker.eventFields[index]) \"\(text)\" is not a count")
                return 0
            }
            return value
        }
        let bets = number(2)
        let staked = number(3)
        let won = number(4)
        let lost = number(5)
        let settlePosition = Int(number(6))
        let settledAt = fields[7]
        let paid = number(8)
        let voided = number(11)
        let refunded = number(12)
        if let settledAt, Int64(settledAt) == nil { record(.invalidEvent, eventKey, "settled_at \"\(settledAt)\" is not a time") }
        if settlePosition > length {
            record(.invalidEvent, eventKey, "settle_pos \(settlePosition) is past the end of the list (\(length) bets)")
        }
        let waiting = fields[0] != nil && settledAt == nil && fields[10] == nil
        if waiting != unsettledIndex.contains(eventID) {
            record(
                .unsettledIndexMismatch, eventKey,
                waiting
                    ? "has a result and is neither settled nor parked, but is not in \(keys.unsettledEvents(shard: keys.shard(of: eventID)))"
                    : "is in \(keys.unsettledEvents(shard: keys.shard(of: eventID))) but \(fields[0] == nil ? "has no result" : settledAt != nil ? "is settled" : "is parked")"
            )
        }
        if fields[0] == nil {
            if settlePosition != 0 {
                record(.settledWithoutResult, eventKey, "settle_pos is \(settlePosition) but the event has no result")
            }
            if settledAt != nil { record(.settledWithoutResult, eventKey, "settled_at is set but the event has no result") }
        }

        var counted = (
            staked: Int64(0), won: Int64(0), lost: Int64(0), voided: Int64(0), pending: 0, paid: Int64(0), refunded: Int64(0), withMoney: 0
        )
        // The users holding bets with money on it, for its bettors.
        var bettors = Set<String>()
        var start = 0
        while start < length {
            let entries = try await redis.lrange(listKey, start, start + checker.pageSize - 1)
            if entries.isEmpty { break }
            let parsed = entries.map { EventListEntry($0) }
            let read = try await readBets(parsed.map { BetID(eventID: eventID, serial: $0?.serial ?? "") })
            for (offset, text) in entries.enumerated() {
                let position = start + offset
                guard let entry = parsed[offset], IDGenerator.isWellFormed(entry.serial) else {
                    record(.invalidListEntry, listKey, "position \(position) holds \"\(text)\", which names no bet")
                    continue
                }
                let id = BetID(eventID: eventID, serial: entry.serial)
                let betKey = keys.bet(id)
                let bet: BetRecord
                switch read[offset] {
                case .success(.record(let found)): bet = found
                case .success(.missing):
                    record(.missingBet, listKey, "position \(position) names bet \(id), which is not stored")
                    continue
                case .failure(let error):
                    record(.wrongType, betKey, "cannot be read as a bet: \(error)")
                    continue
                }
                if let owner = bet.eventID, owner != eventID {
                    record(.betInForeignList, betKey, "is listed and stored under event \(eventID) but its event_id is \(owner)")
                }
                guard listed.insert(id).inserted else {
                    record(.betListedTwice, listKey, "bet \(id) is listed more than once (again at position \(position))")
                    continue
                }
                for problem in bet.problems { record(.invalidBet, betKey, problem) }
                if entry.owner?.userID != bet.wager?.userID || entry.owner?.accountID != bet.wager?.accountID {
                    record(
                        .ownerMismatch, listKey,
                        "position \(position) holds \"\(text)\" but bet \(id) is \(bet.wager.map { "user \($0.userID)'s, account \($0.accountID)" } ?? "anonymous")"
                    )
                }
                remember(id, bet)
                if let wager = bet.wager {
                    counted.withMoney += 1
                    bettors.insert(String(wager.userID))
                }
                counted.staked += bet.amount ?? 0
                switch bet.status {
                case .won:
                    counted.won += 1
                    counted.paid += bet.wager?.payout ?? 0
                case .lost: counted.lost += 1
                case .void:
                    counted.voided += 1
                    if bet.wager != nil { counted.refunded += bet.amount ?? 0 }
                case .pending: counted.pending += 1
                case nil: break
                }
                guard let status = bet.status else { continue }
                guard fields[0] != nil else {
                    if status != .pending {
                        record(.settledWithoutResult, betKey, "is \(status.rawValue) but event \(eventID) has no result")
                    }
                    continue
                }
                if position < settlePosition {
                    if let result, status != result.settledStatus {
                        record(
                            .settlementMismatch, betKey,
                            "is \(status.rawValue) at position \(position), before settle_pos \(settlePosition) of an event with result \(result.rawValue)"
                        )
                    }
                } else if status != .pending {
                    record(
                        .settlementMismatch, betKey,
                        "is \(status.rawValue) at position \(position), at or after settle_pos \(settlePosition)")
                }
            }
            start += entries.count
        }

        let bettorsKey = keys.eventBettors(eventID)
        do {
            let stored = try await redis.smembers(bettorsKey)
            if stored != bettors {
                record(
                    .bettorsMismatch, bettorsKey,
                    "holds users \(stored.sorted()) but users \(bettors.sorted()) hold bets with money on the event")
            }
        } catch {
            record(.wrongType, bettorsKey, "cannot be read as the event's bettors: \(error)")
        }
        if counted.withMoney > 0 && fields[9] == nil {
            record(.moneyOffCatalogue, eventKey, "has \(counted.withMoney) bet(s) with money but is not in the catalogue")
        }
        if bets != length { record(.countMismatch, eventKey, "bets is \(bets) but the list holds \(length)") }
        if staked != counted.staked {
            record(.countMismatch, eventKey, "staked is \(staked) cents but its bets sum to \(counted.staked)")
        }
        if won != counted.won { record(.countMismatch, eventKey, "won is \(won) but \(counted.won) of its bets are won") }
        if lost != counted.lost { record(.countMismatch, eventKey, "lost is \(lost) but \(counted.lost) of its bets are lost") }
        if paid != counted.paid {
            record(.countMismatch, eventKey, "paid is \(paid) cents but its won bets with money pay \(counted.paid)")
        }
        if voided != counted.voided { record(.countMismatch, eventKey, "void is \(voided) but \(counted.voided) of its bets are void") }
        if refunded != counted.refunded {
            record(.countMismatch, eventKey, "refunded is \(refunded) cents but its void bets with money staked \(counted.refunded)")
        }
        if settledAt != nil {
            if settlePosition != length {
                record(
                    .settledIncomplete, eventKey, "settled_at is set but settle_pos \(settlePosition) is not the list length \(length)")
            }
            if counted.pending > 0 {
                record(.settledIncomplete, eventKey, "settled_at is set but \(counted.pending) of its bets are pending")
            }
        }
    }
}
