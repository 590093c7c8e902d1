import Crypto
import RedisClient

/// The bets and events in Redis: every read and write the API makes.
public struct BetStore: Sendable {
    public let redis: any RedisCommandSender
    public let keys: RedisKeys
    public let ids: BetIDGenerator
    public let idempotencyTTL: Duration

    public init(redis: any RedisCommandSender, keys: RedisKeys, ids: BetIDGenerator, idempotencyTTL: Duration = .seconds(24 * 3600)) {
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
        /// An earlier request with the same Idempotency-Key placed the bet; this is its response body.
        case replayed(response: String)
        case idempotencyKeyReused
        case eventClosed(EventResult)
    }

    /// Places a bet atomically with the check that its event has no result yet.
    public func place(eventID: String, amount: Money, idempotency: IdempotencyKey? = nil) async throws -> PlaceOutcome {
        // A fresh id is drawn if the first collides (possible only across processes, see BetIDGenerator).
        for _ in 0..<3 {
            let bet = Bet(id: ids.next(), eventID: eventID, amount: amount, status: .pending, createdAt: currentMilliseconds())
            var scriptKeys = [keys.event(eventID), keys.eventBets(eventID), keys.bet(bet.id), keys.betsByStatus(.pending)]
            var arguments = [bet.id, eventID, String(amount.cents), String(bet.createdAt)]
            if let idempotency {
                scriptKeys.append(keys.idempotency(Self.digest(idempotency.key)))
                arguments += [idempotency.fingerprint, String(decoding: bet.json, as: UTF8.self), String(idempotencyTTL.inMilliseconds)]
            }
            let reply = try await redis.eval(Scripts.placeBet, keys: scriptKeys, arguments: arguments).strings(for: "place_bet")
            switch reply.first {
            case "placed": return .placed(bet)
            case "replayed": return .replayed(response: reply.count > 1 ? reply[1] : "")
            case "idempotency_mismatch": return .idempotencyKeyReused
            case "closed": return .eventClosed(EventResult(rawValue: reply.count > 1 ? reply[1] : "") ?? .lose)
            case "id_taken": continue
            default: throw RedisError.unexpectedReply(command: "place_bet", reply: "\(reply)")
            }
        }
        throw RedisError.unexpectedReply(command: "place_bet", reply: "bet id collided three times")
    }

    static func digest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    // MARK: Reading bets

    static let betFields = ["event_id", "amount", "status", "created_at", "settled_at"]

    public func bet(id: String) async throws -> Bet? {
        try await bets(ids: [id]).first
    }

    /// The bets with these ids, in the same order; ids without a bet are left out.
    public func bets(ids: [String]) async throws -> [Bet] {
        guard !ids.isEmpty else { return [] }
        let commands = ids.map { id in
            var command = RedisCommand("HMGET", keys.bet(id))
            command.append(contentsOf: Self.betFields)
            return command
        }
        var bets: [Bet] = []
        bets.reserveCapacity(ids.count)
        for (id, result) in zip(ids, try await redis.pipeline(commands)) {
            let fields = try result.get().optionalStrings(for: "HMGET")
            if let bet = Self.bet(id: id, fields: fields) { bets.append(bet) }
        }
        return bets
    }

    static func bet(id: String, fields: [String?]) -> Bet? {
        guard fields.count == 5, let eventID = fields[0], let cents = fields[1].flatMap({ Int64($0) }),
            let status = fields[2].flatMap(BetStatus.init(rawValue:)), let createdAt = fields[3].flatMap({ Int64($0) })
        else { return nil }
        return Bet(
            id: id, eventID: eventID, amount: Money(cents: cents), status: status, createdAt: createdAt,
            settledAt: fields[4].flatMap { Int64($0) })
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

    /// True when `cursor` has the shape a listing with `filter` hands out.
    public static func isValidCursor(_ cursor: String, for filter: Filter) -> Bool {
        filter.eventID == nil ? BetIDGenerator.isWellFormed(cursor) : (Int(cursor).map { $0 >= 0 } ?? false)
    }

    /// Bets newest first. Without an event filter the cursor is the last id shown (ids sort by time);
    /// with one it is a position in the event's append-only bet list. Either stays right while bets
    /// are added, because new bets only ever come before the cursor.
    public func list(_ filter: Filter, limit: Int, cursor: String?) async throws -> Page {
        if let eventID = filter.eventID {
            return try await listEvent(eventID, status: filter.status, limit: limit, cursor: cursor.flatMap { Int($0) })
        }
        let upper: LexBound = cursor.map { .exclusive($0) } ?? .maximum
        let statuses = filter.status.map { [$0] } ?? BetStatus.allCases
        let ranges = try await redis.pipeline(
            statuses.map { status in
                RedisCommand.zrangeByLex(keys.betsByStatus(status), min: .minimum, max: upper, reverse: true, limit: (0, limit + 1))
            })
        // Each status index is newest first; merging them gives all bets newest first.
        var ids: [String] = []
        for range in ranges { ids += try range.get().strings(for: "ZRANGE") }
        ids.sort(by: >)
        let hasMore = ids.count > limit
        ids = Array(ids.prefix(limit))
        var bets = try await bets(ids: ids)
        // A bet may have been settled between the index read and the hash read.
        if let status = filter.status { bets.removeAll { $0.status != status } }
        return Page(bets: bets, nextCursor: hasMore ? ids.last : nil)
    }

    private func listEvent(_ eventID: String, status: BetStatus?, limit: Int, cursor: Int?) async throws -> Page {
        let list = keys.eventBets(eventID)
        var end: Int
        if let cursor {
            end = cursor
        } else {
            end = try await redis.llen(list)
        }
        var found: [Bet] = []
        // With a status filter, scan a bounded number of windows; the cursor says where to go on.
        var windows = 0
        while end > 0, found.count < limit, windows < 10 {
            let start = max(0, end - (limit - found.count))
            let ids = try await redis.lrange(list, start, end - 1).reversed()
            let bets = try await bets(ids: Array(ids))
            found += status.map { wanted in bets.filter { $0.status == wanted } } ?? bets
            end = start
            windows += 1
        }
        return Page(bets: found, nextCursor: end > 0 ? String(end) : nil)
    }

    // MARK: Events

    public enum ReportOutcome: Sendable, Equatable {
        case reported
        case unchanged
        case conflict(current: EventResult)
    }

    /// Records the result and queues the event for settlement, atomically and once.
    public func report(eventID: String, result: EventResult) async throws -> ReportOutcome {
        let reply = try await redis.eval(
            Scripts.reportResult, keys: [keys.event(eventID), keys.eventsStream],
            arguments: [result.rawValue, String(currentMilliseconds()), eventID]
        ).strings(for: "report_result")
        switch reply.first {
        case "reported": return .reported
        case "unchanged": return .unchanged
        case "conflict": return .conflict(current: EventResult(rawValue: reply.count > 1 ? reply[1] : "") ?? result)
        default: throw RedisError.unexpectedReply(command: "report_result", reply: "\(reply)")
        }
    }

    public func event(id: String) async throws -> EventSummary {
        let fields = try await redis.hmget(
            keys.event(id), ["result", "reported_at", "settled_at", "bets", "won", "lost", "staked"])
        return EventSummary(
            id: id, result: fields[0].flatMap(EventResult.init(rawValue:)), reportedAt: fields[1].flatMap { Int64($0) },
            settledAt: fields[2].flatMap { Int64($0) }, bets: fields[3].flatMap { Int($0) } ?? 0,
            won: fields[4].flatMap { Int($0) } ?? 0, lost: fields[5].flatMap { Int($0) } ?? 0,
            staked: Money(cents: fields[6].flatMap { Int64($0) } ?? 0))
    }
}
