import RedisClient

/// The bets and events in Redis: every read and write the API makes.
public struct BetStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let ids: IDGenerator
    public let idempotencyTTL: Duration

    public init(redis: RedisClient, keys: RedisKeys, ids: IDGenerator, idempotencyTTL: Duration = .seconds(24 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.ids = ids
        self.idempotencyTTL = idempotencyTTL
    }

    // MARK: Placing

    public enum PlaceOutcome: Sendable, Equatable {
        case placed(Bet)
        /// An earlier request with the same Idempotency-Key placed this bet; it is shown as it was then.
        case replayed(Bet)
        case idempotencyKeyReused
        case eventClosed(EventResult)
        /// A catalogue event that started by Redis's clock (`starts_at`, ms) or that a trader took.
        case bettingClosed(CatalogueEvent.ClosedReason, startsAt: Int64)
        // Only for bets with money:
        /// The user was disabled (or never activated) since the token was issued.
        case inactiveUser
        /// The user is staff (a trader or an administrator): staff do not bet.
        case staff(Role)
        case notInCatalogue
        /// A catalogue event that does not take bets now.
        case notOpen
        /// The account does not exist or is not the user's.
        case noAccount
        case insufficientFunds(balance: Money)
    }

    /// Places an anonymous bet (no money moves), atomically with the check that its event has no
    /// result yet (and, for a catalogue event, that it has not started and no trader took it).
    public func place(eventID: String, amount: Money, idempotency: IdempotencyKey? = nil) async throws -> PlaceOutcome {
        let shard = keys.shard(of: eventID)
        if let idempotency, try await isUsedInAnotherShard(idempotency, than: shard) { return .idempotencyKeyReused }
        // A fresh id is drawn if the first collides (possible only across processes, see IDGenerator).
        for _ in 0..<3 {
            let id = BetID(eventID: eventID, serial: ids.next())
            var scriptKeys = [keys.event(eventID), keys.eventBets(eventID), keys.bet(id), keys.allBets(shard: shard)]
            var arguments = [id.description, id.serial, eventID, String(amount.cents)]
            if let idempotency {
                scriptKeys.append(keys.betIdempotency(shard: shard, sha256Hex(idempotency.key)))
                arguments += [idempotency.fingerprint, String(idempotencyTTL.inMilliseconds)]
            }
            let reply = try await redis.eval(Scripts.placeBet, keys: scriptKeys, arguments: arguments).strings(for: "place_bet")
            switch reply.first {
            case "placed":
                // created_at is Redis's clock when the script ran (see Scripts.placeBet).
                guard reply.count == 2, let createdAt = Int64(reply[1]) else {
                    throw RedisError.unexpectedReply(command: "place_bet", reply: "\(reply)")
                }
                return .placed(Bet(id: id, amount: amount, status: .pending, createdAt: createdAt))
            case "id_taken": continue
            default: return try await refusal(reply, script: "place_bet")
            }
        }
        throw RedisError.unexpectedReply(command: "place_bet", reply: "bet id collided three times")
    }

    /// True when an anonymous bet's Idempotency-Key was used for a bet on an event of another shard:
    /// the record `place_bet` keeps is in its event's shard, so it cannot see those. The fingerprint
    /// names the event, so such a request is always another one (docs/decisions/0301). One read per
    /// shard, pipelined, and only with a key and several shards.
    private func isUsedInAnotherShard(_ idempotency: IdempotencyKey, than shard: Int) async throws -> Bool {
        let others = keys.allShards.filter { $0 != shard }
        guard !others.isEmpty else { return false }
        let digest = sha256Hex(idempotency.key)
        let replies = try await redis.pipeline(others.map { RedisCommand("EXISTS", keys.betIdempotency(shard: $0, digest)) })
        return try replies.contains { try $0.get().int(for: "EXISTS") > 0 }
    }

    /// The outcomes of the placing scripts other than `placed`.
    func refusal(_ reply: [String], script: String) async throws -> PlaceOutcome {
        let detail = reply.count > 1 ? reply[1] : ""
        switch reply.first {
        case "replayed":
            guard let id = BetID(detail), let bet = try await bet(id: id) else {
                throw RedisError.unexpectedReply(command: script, reply: "replayed bet \(detail) is not stored")
            }
            return .replayed(bet.asPlaced)
        case "idempotency_mismatch": return .idempotencyKeyReused
        case "closed": return .eventClosed(EventResult(rawValue: detail) ?? .lose)
        case "inactive_user": return .inactiveUser
        case "staff": return .staff(Role(rawValue: detail) ?? .trader)
        case "betting_closed":
            guard reply.count == 3, let reason = CatalogueEvent.ClosedReason(rawValue: reply[1]), let startsAt = Int64(reply[2]) else {
                throw RedisError.unexpectedReply(command: script, reply: "\(reply)")
            }
            return .bettingClosed(reason, startsAt: startsAt)
        case "not_in_catalogue": return .notInCatalogue
        case "not_open": return .notOpen
        case "no_account": return .noAccount
        case "insufficient_funds": return .insufficientFunds(balance: Money(cents: Int64(detail) ?? 0))
        default: throw RedisError.unexpectedReply(command: script, reply: "\(reply)")
        }
    }

    // MARK: Reading bets

    /// One bet, in one read.
    public func bet(id: BetID) async throws -> Bet? {
        try await bets([(id, .unknown)]).first
    }

    /// Who holds a bet, as far as the reader knows before reading it: a listing knows (its index says),
    /// a lookup by id does not. Only what is not known is read.
    public enum Holder: Sendable, Equatable {
        case anonymous
        case user(Int)
        case unknown
    }

    /// The fields every bet is read with, in the order the placing scripts write them, so each lookup
    /// in the hash's listpack stops early.
    static let listedFields = ["status", "amount", "created_at", "settled_at"]
    /// What a bet with money adds, besides its user.
    static let wagerFields = ["account_id", "odds", "payout"]

    /// The bets with these ids, in the same order; ids without a bet are left out. One round trip: an
    /// `HMGET` per bet, pipelined (cheaper for Redis than one script reading them all:
    /// docs/PERFORMANCE.md), each asking only for what the holder leaves unknown.
    public func bets(_ wanted: [(id: BetID, holder: Holder)]) async throws -> [Bet] {
        guard !wanted.isEmpty else { return [] }
        let commands = wanted.map { id, holder in
            let fields: [String]
            switch holder {
            case .anonymous: fields = Self.listedFields
            case .user: fields = Self.listedFields + Self.wagerFields
            case .unknown: fields = Self.listedFields + Self.wagerFields + ["user_id"]
            }
            return RedisCommand("HMGET", arguments: [keys.bet(id)] + fields)
        }
        var bets: [Bet] = []
        bets.reserveCapacity(wanted.count)
        for ((id, holder), reply) in zip(wanted, try await redis.pipeline(commands)) {
            let fields = try reply.get().optionalStrings(for: "HMGET")
            guard fields.contains(where: { $0 != nil }) else { continue }
            guard let bet = Self.bet(id: id, holder: holder, fields: fields) else {
                throw RedisError.unexpectedReply(command: "HMGET", reply: "\(keys.bet(id)) is not a bet: \(fields)")
            }
            bets.append(bet)
        }
        return bets
    }

    /// A bet from the fields `bets` asked for; nil when one it needs is missing or malformed.
    static func bet(id: BetID, holder: Holder, fields: [String?]) -> Bet? {
        guard fields.count >= listedFields.count, let status = fields[0].flatMap(BetStatus.init(rawValue:)),
            let cents = fields[1].flatMap({ Int64($0) }), let createdAt = fields[2].flatMap({ Int64($0) })
        else { return nil }
        var wager: Wager?
        if fields.count > listedFields.count {
            let owner: Int? =
                switch holder {
                case .user(let userID): userID
                case .unknown: fields[7].flatMap { Int($0) }
                case .anonymous: nil
                }
            if let owner, let accountID = fields[4].flatMap({ Int($0) }), let odds = fields[5].flatMap({ Int64($0) }),
                let payout = fields[6].flatMap({ Int64($0) })
            {
                wager = Wager(userID: owner, accountID: accountID, odds: Odds(hundredths: odds), payout: Money(cents: payout))
            } else if fields[4...].contains(where: { $0 != nil }) {
                return nil
            }
        }
        return Bet(
            id: id, amount: Money(cents: cents), status: status, createdAt: createdAt, settledAt: fields[3].flatMap { Int64($0) },
            wager: wager)
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

    /// Bets newest first. The ids come from an append-only list read backwards: the scope's own list
    /// (anonymous bets, or the user's), or with an event filter the event's list, whose entries name
    /// their owner. The cursor is a position in that list; positions never move, so a listing stays
    /// right while bets are added after it.
    ///
    /// A status filter is applied to the bets read, since statuses live only in the bets (that
    /// keeps settlement to one write per bet). At most `NewestFirstPages.maximumWindows` windows are read per page, so
    /// a rare status costs a bounded amount per request: its page may then be short, even empty, but
    /// its cursor goes on.
    public func list(_ filter: Filter, scope: Scope, limit: Int, cursor: String?) async throws -> Page {
        let lists: [String]
        if let eventID = filter.eventID {
            lists = [keys.eventBets(eventID)]
        } else if case .user(let userID) = scope {
            lists = [keys.userBets(userID)]
        } else {
            lists = keys.allShards.map { keys.allBets(shard: $0) }
        }
        // The shards' lists of anonymous bets merge by the bets' time-ordered serials.
        let pages = ShardedPages(redis: redis, lists: lists) { BetID($0)?.serial ?? "" > BetID($1)?.serial ?? "" }
        let page = try await pages.page(limit: limit, cursor: cursor) { entries in
            let wanted: [(id: BetID, holder: Holder)]
            if let eventID = filter.eventID {
                wanted = entries.compactMap { text in
                    guard let entry = EventListEntry(text), scope.includes(entry) else { return nil }
                    return (BetID(eventID: eventID, serial: entry.serial), entry.owner.map { .user($0.userID) } ?? .anonymous)
                }
            } else {
                let holder: Holder
                switch scope {
                case .anonymous: holder = .anonymous
                case .user(let userID): holder = .user(userID)
                }
                wanted = entries.compactMap { BetID($0).map { ($0, holder) } }
            }
            let bets = try await bets(wanted)
            return filter.status.map { wanted in bets.filter { $0.status == wanted } } ?? bets
        }
        return Page(bets: page.items, nextCursor: page.nextCursor)
    }

    /// True when `cursor` has the shape the listing of `filter` and `scope` hands out: a position in one
    /// list, or for all anonymous bets one per shard (`ShardedPages`).
    public func isValidCursor(_ cursor: String, filter: Filter, scope: Scope) -> Bool {
        filter.eventID == nil && scope == .anonymous
            ? ShardedPages.isValidCursor(cursor, shards: keys.shards) : NewestFirstPages.isValidCursor(cursor)
    }

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
        let shard = keys.shard(of: eventID)
        var trader = ""
        var isActiveTrader = false
        if case .trader(let userID) = reporter {
            trader = String(userID)
            isActiveTrader = try await EventWorkflowStore.isActiveTrader(userID, redis: redis, keys: keys)
        }
        let reply = try await redis.eval(
            Scripts.reportResult,
            keys: [
                keys.event(eventID), keys.eventsStream(shard: shard), keys.openCatalogue(shard: shard), keys.unsettledEvents(shard: shard),
            ],
            arguments: [
                result.rawValue, String(currentMilliseconds()), eventID, reporter == .anonymous ? "1" : "0", trader,
                isActiveTrader ? "1" : "0",
            ]
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
