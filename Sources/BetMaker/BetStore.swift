import Crypto
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
            var scriptKeys = [keys.event(eventID), keys.eventBets(eventID), keys.bet(bet.id), keys.allBets]
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

    public func bet(id: String) async throws -> Bet? {
        try await bets(ids: [id]).first
    }

    /// The bets with these ids, in the same order; ids without a bet are left out. One script call
    /// reads them all.
    public func bets(ids: [String]) async throws -> [Bet] {
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.eval(Scripts.readBets, keys: ids.map(keys.bet)).array(for: "read_bets")
        var bets: [Bet] = []
        bets.reserveCapacity(ids.count)
        for (id, reply) in zip(ids, replies) {
            if let bet = Self.bet(id: id, fields: try reply.optionalStrings(for: "read_bets")) { bets.append(bet) }
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

    /// Bets newest first. Without an event filter the ids come from the index of all bets and the
    /// cursor is the last id shown (ids sort by time); with one they come from the event's
    /// append-only list and the cursor is a position in it. Either stays right while bets are added,
    /// because new bets only ever come before the cursor.
    ///
    /// A status filter is applied to the bets read, since statuses live only in the bet hashes (that
    /// keeps settlement to one write per bet). At most `maximumWindows` windows are read per page, so
    /// a rare status costs a bounded amount per request: its page may then be short, even empty, but
    /// its cursor goes on.
    public func list(_ filter: Filter, limit: Int, cursor: String?) async throws -> Page {
        if let eventID = filter.eventID {
            let list = keys.eventBets(eventID)
            var end: Int
            if let position = cursor.flatMap({ Int($0) }) { end = position } else { end = try await redis.llen(list) }
            return try await scan(status: filter.status, limit: limit) { count in
                guard end > 0 else { return ([], nil) }
                let start = max(0, end - count)
                let ids = try await redis.lrange(list, start, end - 1).reversed()
                end = start
                return (Array(ids), end > 0 ? String(end) : nil)
            }
        }
        var upper: LexBound = cursor.map { .exclusive($0) } ?? .maximum
        return try await scan(status: filter.status, limit: limit) { count in
            let ids = try await redis.zrangeByLex(keys.allBets, min: .minimum, max: upper, reverse: true, limit: (0, count + 1))
            let window = Array(ids.prefix(count))
            guard ids.count > count, let last = window.last else { return (window, nil) }
            upper = .exclusive(last)
            return (window, last)
        }
    }

    public static let maximumWindows = 10

    /// Reads windows of ids newest first (`next(count)` gives up to `count` ids and the cursor after
    /// them, nil at the end) until the page is full.
    private func scan(
        status: BetStatus?, limit: Int, next: (Int) async throws -> (ids: [String], cursor: String?)
    ) async throws -> Page {
        var found: [Bet] = []
        var cursor: String?
        for _ in 0..<Self.maximumWindows {
            let window = try await next(limit - found.count)
            let bets = try await bets(ids: window.ids)
            found += status.map { wanted in bets.filter { $0.status == wanted } } ?? bets
            cursor = window.cursor
            if cursor == nil || found.count >= limit || status == nil { break }
        }
        return Page(bets: found, nextCursor: cursor)
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
