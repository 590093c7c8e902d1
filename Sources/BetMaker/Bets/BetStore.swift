import RedisClient

/// The bets and events in Redis: every read and write the API makes.
public struct BetStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let ids: BetIDGenerator
    public let idempotencyTTL: Duration

    public init(redis: RedisClient, keys: RedisKeys, ids: BetIDGenerator, idempotencyTTL: Duration = .seconds(24 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.ids = ids
        self.idempotencyTTL = idempotencyTTL
    }

    // MARK: Placing

    public struct IdempotencyKey: Sendable {
        /// The client's key, as sent.
        public let key: String
        /// What the request asked for, canonically; a retry must ask for the same.
        public let fingerprint: String

        public init(key: String, fingerprint: String) {
            self.key = key
            self.fingerprint = fingerprint
        }
    }

    public enum PlaceOutcome: Sendable, Equatable {
        case placed(Bet)
        /// An earlier request with the same Idempotency-Key placed this bet; it is shown as it was then.
        case replayed(Bet)
        case idempotencyKeyReused
        case eventClosed(EventResult)
        // Only for bets with money:
        /// The user was disabled (or never activated) since the token was issued.
        case inactiveUser
        case notInCatalogue
        /// A catalogue event that does not take bets now.
        case notOpen
        /// The account does not exist or is not the user's.
        case noAccount
        case insufficientFunds(balance: Money)
    }

    /// Places an anonymous bet (no money moves), atomically with the check that its event has no
    /// result yet.
    public func place(eventID: String, amount: Money, idempotency: IdempotencyKey? = nil) async throws -> PlaceOutcome {
        // A fresh id is drawn if the first collides (possible only across processes, see BetIDGenerator).
        for _ in 0..<3 {
            let id = ids.next()
            var scriptKeys = [keys.event(eventID), keys.eventBets(eventID), keys.bet(id), keys.allBets]
            var arguments = [id, eventID, String(amount.cents)]
            if let idempotency {
                scriptKeys.append(keys.idempotency(sha256Hex(idempotency.key)))
                arguments += [idempotency.fingerprint, String(idempotencyTTL.inMilliseconds)]
            }
            let reply = try await redis.eval(Scripts.placeBet, keys: scriptKeys, arguments: arguments).strings(for: "place_bet")
            switch reply.first {
            case "placed":
                // created_at is Redis's clock when the script ran (see Scripts.placeBet).
                guard reply.count == 2, let createdAt = Int64(reply[1]) else {
                    throw RedisError.unexpectedReply(command: "place_bet", reply: "\(reply)")
                }
                return .placed(Bet(id: id, eventID: eventID, amount: amount, status: .pending, createdAt: createdAt))
            case "id_taken": continue
            default: return try await refusal(reply, script: "place_bet")
            }
        }
        throw RedisError.unexpectedReply(command: "place_bet", reply: "bet id collided three times")
    }

    /// Places a bet with money from one of the user's accounts (the first one when `accountID` is
    /// nil) on an open catalogue event: the stake is debited and the odds locked in, atomically.
    public func place(
        eventID: String, amount: Money, userID: Int, accountID: Int?, idempotency: IdempotencyKey? = nil
    ) async throws -> PlaceOutcome {
        for _ in 0..<3 {
            let id = ids.next()
            var scriptKeys = [
                keys.event(eventID), keys.eventBets(eventID), keys.bet(id), keys.user(userID), keys.accounts(userID),
                keys.ledger(userID), keys.userBets(userID),
            ]
            var arguments = [id, eventID, String(amount.cents), String(userID), accountID.map { String($0) } ?? ""]
            if let idempotency {
                scriptKeys.append(keys.idempotency(sha256Hex(idempotency.key)))
                arguments += [idempotency.fingerprint, String(idempotencyTTL.inMilliseconds)]
            }
            let reply = try await redis.eval(Scripts.placeWalletBet, keys: scriptKeys, arguments: arguments)
                .strings(for: "place_wallet_bet")
            switch reply.first {
            case "placed":
                guard reply.count == 5, let account = Int(reply[1]), let odds = Int64(reply[2]), let payout = Int64(reply[3]),
                    let createdAt = Int64(reply[4])
                else {
                    throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "\(reply)")
                }
                let wager = Wager(userID: userID, accountID: account, odds: Odds(hundredths: odds), payout: Money(cents: payout))
                return .placed(Bet(id: id, eventID: eventID, amount: amount, status: .pending, createdAt: createdAt, wager: wager))
            case "id_taken": continue
            default: return try await refusal(reply, script: "place_wallet_bet")
            }
        }
        throw RedisError.unexpectedReply(command: "place_wallet_bet", reply: "bet id collided three times")
    }

    /// The outcomes of the placing scripts other than `placed`.
    private func refusal(_ reply: [String], script: String) async throws -> PlaceOutcome {
        let detail = reply.count > 1 ? reply[1] : ""
        switch reply.first {
        case "replayed":
            guard let bet = try await bet(id: detail) else {
                throw RedisError.unexpectedReply(command: script, reply: "replayed bet \(detail) is not stored")
            }
            return .replayed(bet.asPlaced)
        case "idempotency_mismatch": return .idempotencyKeyReused
        case "closed": return .eventClosed(EventResult(rawValue: detail) ?? .lose)
        case "inactive_user": return .inactiveUser
        case "not_in_catalogue": return .notInCatalogue
        case "not_open": return .notOpen
        case "no_account": return .noAccount
        case "insufficient_funds": return .insufficientFunds(balance: Money(cents: Int64(detail) ?? 0))
        default: throw RedisError.unexpectedReply(command: script, reply: "\(reply)")
        }
    }

    // MARK: Reading bets

    public func bet(id: String) async throws -> Bet? {
        try await bets(ids: [id]).first
    }

    /// The bets with these ids, in the same order; ids without a bet are left out. One `MGET` reads
    /// them all; a bet still stored as a hash (`RedisKeys.bet`) costs a second call.
    public func bets(ids: [String]) async throws -> [Bet] {
        guard !ids.isEmpty else { return [] }
        var bets: [Bet] = []
        bets.reserveCapacity(ids.count)
        for (id, packed) in zip(ids, try await Self.readPacked(ids.map(keys.bet), redis: redis)) {
            guard let packed else { continue }
            guard let fields = Self.unpack(packed) else {
                throw RedisError.unexpectedReply(command: "MGET", reply: "\(keys.bet(id)) is not a bet: \(packed)")
            }
            if let bet = Self.bet(id: id, fields: fields) { bets.append(bet) }
        }
        return bets
    }

    /// The stored text of these bets (nil where there is none): one `MGET`, and `read_bets` for the
    /// keys it did not answer, which are bets still stored as hashes or missing. Throws WRONGTYPE when
    /// a key holds another type.
    static func readPacked(_ betKeys: [String], redis: RedisClient) async throws -> [String?] {
        var packed = try await redis.send(RedisCommand("MGET", arguments: betKeys)).optionalStrings(for: "MGET")
        guard packed.count == betKeys.count else {
            throw RedisError.unexpectedReply(command: "MGET", reply: "\(packed.count) values for \(betKeys.count) keys")
        }
        let unanswered = packed.indices.filter { packed[$0] == nil }
        guard !unanswered.isEmpty else { return packed }
        let found = try await redis.eval(Scripts.readBets, keys: unanswered.map { betKeys[$0] }).optionalStrings(for: "read_bets")
        for (index, text) in zip(unanswered, found) { packed[index] = text }
        return packed
    }

    /// A bet's fields in the order they are stored (`RedisKeys.bet`).
    public static let storedFields = [
        "status", "settled_at", "event_id", "amount", "created_at", "user_id", "account_id", "odds", "payout",
    ]

    /// The `storedFields` of one stored bet (`RedisKeys.bet`): split at single spaces, an empty field
    /// nil, an anonymous bet's missing four nil. Nil when the text has neither 5 nor 9 fields.
    public static func unpack(_ packed: String) -> [String?]? {
        var packed = packed
        return packed.withUTF8 { bytes in
            var fields: [String?] = []
            fields.reserveCapacity(storedFields.count)
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: " ") {
                guard fields.count < storedFields.count else { return nil }
                fields.append(index == start ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                start = index + 1
            }
            switch fields.count {
            case storedFields.count: return fields
            case anonymousFieldCount: return fields + Array(repeating: nil, count: storedFields.count - anonymousFieldCount)
            default: return nil
            }
        }
    }

    /// An anonymous bet stores its first five fields only.
    static let anonymousFieldCount = 5

    /// The text `unpack` reads back as these `storedFields` (an absent one empty); an anonymous bet's
    /// last four are left out when all are absent. For tests that write a bet by hand; the scripts
    /// write bets in Lua.
    public static func pack(_ fields: [String?]) -> String {
        precondition(fields.count == storedFields.count, "a bet has \(storedFields.count) fields")
        let kept = fields[anonymousFieldCount...].allSatisfy { $0 == nil } ? fields.prefix(anonymousFieldCount) : fields[...]
        return kept.map { $0 ?? "" }.joined(separator: " ")
    }

    static func bet(id: String, fields: [String?]) -> Bet? {
        guard fields.count == storedFields.count, let status = fields[0].flatMap(BetStatus.init(storageCode:)),
            let eventID = fields[2], let cents = fields[3].flatMap({ Int64($0) }), let createdAt = fields[4].flatMap({ Int64($0) })
        else { return nil }
        var wager: Wager?
        if let userID = fields[5].flatMap({ Int($0) }), let accountID = fields[6].flatMap({ Int($0) }),
            let odds = fields[7].flatMap({ Int64($0) }), let payout = fields[8].flatMap({ Int64($0) })
        {
            wager = Wager(userID: userID, accountID: accountID, odds: Odds(hundredths: odds), payout: Money(cents: payout))
        }
        return Bet(
            id: id, eventID: eventID, amount: Money(cents: cents), status: status, createdAt: createdAt,
            settledAt: fields[1].flatMap { Int64($0) }, wager: wager)
    }

    /// Whose bets a listing shows: the anonymous ones, or one user's.
    public enum Scope: Sendable, Equatable {
        case anonymous
        case user(Int)

        func includes(_ entry: EventListEntry) -> Bool {
            switch self {
            case .anonymous: entry.owner == nil
            case .user(let userID): entry.owner?.userID == userID
            }
        }
    }

    public struct Filter: Sendable, Equatable {
        public var status: BetStatus?
        public var eventID: String?

        public init(status: BetStatus? = nil, eventID: String? = nil) {
            self.status = status
            self.eventID = eventID
        }
    }

    public struct Page: Sendable, Equatable {
        public let bets: [Bet]
        /// Where the next page starts; nil on the last page.
        public let nextCursor: String?
    }

    /// True when `cursor` has the shape a listing hands out: a position in a list.
    public static func isValidCursor(_ cursor: String) -> Bool {
        Int(decimalDigits: cursor) != nil
    }

    /// Bets newest first. The ids come from an append-only list read backwards: the scope's own list
    /// (anonymous bets, or the user's), or with an event filter the event's list, whose entries name
    /// their owner. The cursor is a position in that list; positions never move, so a listing stays
    /// right while bets are added after it.
    ///
    /// A status filter is applied to the bets read, since statuses live only in the bets (that
    /// keeps settlement to one write per bet). At most `maximumWindows` windows are read per page, so
    /// a rare status costs a bounded amount per request: its page may then be short, even empty, but
    /// its cursor goes on.
    public func list(_ filter: Filter, scope: Scope, limit: Int, cursor: String?) async throws -> Page {
        let list: String
        if let eventID = filter.eventID {
            list = keys.eventBets(eventID)
        } else if case .user(let userID) = scope {
            list = keys.userBets(userID)
        } else {
            list = keys.allBets
        }
        let page = try await NewestFirstPages(redis: redis, list: list).page(limit: limit, cursor: cursor) { entries in
            let ids = entries.compactMap { text -> String? in
                guard let entry = EventListEntry(text), filter.eventID == nil || scope.includes(entry) else { return nil }
                return entry.betID
            }
            let bets = try await bets(ids: ids)
            return filter.status.map { wanted in bets.filter { $0.status == wanted } } ?? bets
        }
        return Page(bets: page.items, nextCursor: page.nextCursor)
    }

    public static let maximumWindows = 10

    // MARK: Events

    public enum ReportOutcome: Sendable, Equatable {
        case reported
        case unchanged
        case conflict(current: EventResult)
        /// An anonymous reporter named an event that carries money (a catalogue event): nothing changed.
        case needsOperator
        /// The event is in a state the reporter may not report from (a void event; for a trader, one
        /// not taken yet): nothing changed.
        case wrongState(EventState)
        /// A trader named an event that is not theirs: nothing changed.
        case notYours(EventState)
        /// The trader lost the role or was disabled since the request was authenticated.
        case notATrader
    }

    /// Who reports a result: an operator (an administrator's token, or the results feed's key), an
    /// anonymous caller, or a trader (their user id).
    public enum Reporter: Sendable, Equatable {
        case administrator
        case anonymous
        case trader(Int)
    }

    /// Records the result and queues the event for settlement, atomically and once. An anonymous
    /// reporter is refused for an event that carries money, and a trader for an event they did not
    /// take, in the same step.
    public func report(eventID: String, result: EventResult, by reporter: Reporter = .administrator) async throws -> ReportOutcome {
        precondition(result != .void, "a void is POST /events/{id}/void (EventWorkflowStore.void)")
        var scriptKeys = [keys.event(eventID), keys.eventsStream, keys.openCatalogue, keys.unsettledEvents]
        var trader = ""
        if case .trader(let userID) = reporter {
            scriptKeys.append(keys.user(userID))
            trader = String(userID)
        }
        let reply = try await redis.eval(
            Scripts.reportResult, keys: scriptKeys,
            arguments: [result.rawValue, String(currentMilliseconds()), eventID, reporter == .anonymous ? "1" : "0", trader]
        ).strings(for: "report_result")
        let detail = reply.count > 1 ? reply[1] : ""
        switch reply.first {
        case "reported": return .reported
        case "unchanged": return .unchanged
        case "conflict": return .conflict(current: EventResult(rawValue: detail) ?? result)
        case "needs_operator": return .needsOperator
        case "wrong_state": return .wrongState(EventState(rawValue: detail) ?? .void)
        case "not_yours": return .notYours(EventState(rawValue: detail) ?? .open)
        case "not_a_trader": return .notATrader
        default: throw RedisError.unexpectedReply(command: "report_result", reply: "\(reply)")
        }
    }

    public func event(id: String) async throws -> EventSummary {
        let counters = ["reported_at", "settled_at", "bets", "won", "lost", "staked", "paid", "void", "refunded"]
        let fields = try await redis.hmget(keys.event(id), counters + EventWorkflow.storedFields + CatalogueEvent.storedFields)
        func count(_ index: Int) -> Int64 { fields[index].flatMap { Int64($0) } ?? 0 }
        let workflowFields = Array(fields[counters.count..<(counters.count + EventWorkflow.storedFields.count)])
        let catalogue = CatalogueEvent(id: id, fields: Array(fields.suffix(CatalogueEvent.storedFields.count)))
        return EventSummary(
            id: id, result: workflowFields[0].flatMap(EventResult.init(rawValue:)), reportedAt: fields[0].flatMap { Int64($0) },
            settledAt: fields[1].flatMap { Int64($0) }, bets: Int(count(2)), won: Int(count(3)), lost: Int(count(4)),
            staked: Money(cents: count(5)), paidOut: Money(cents: count(6)), voided: Int(count(7)), refunded: Money(cents: count(8)),
            workflow: EventWorkflow(fields: workflowFields), catalogue: catalogue)
    }
}
