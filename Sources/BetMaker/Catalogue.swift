import RedisClient

/// An event in the catalogue that players can bet on with money: two teams, a start time, and the
/// decimal odds of the first team (`home_team`) winning. Its fields live in the event's hash, beside
/// the result and the settlement counters.
public struct CatalogueEvent: Sendable, Equatable {
    public let id: String
    public var title: String
    public var homeTeam: String
    public var awayTeam: String
    /// Milliseconds since 1970.
    public var startsAt: Int64
    public var odds: Odds
    /// The operator's switch: bets are taken only while it is on and the event has no result.
    public var isOpen: Bool
    public var result: EventResult?

    public init(
        id: String, title: String, homeTeam: String, awayTeam: String, startsAt: Int64, odds: Odds, isOpen: Bool,
        result: EventResult? = nil
    ) {
        self.id = id
        self.title = title
        self.homeTeam = homeTeam
        self.awayTeam = awayTeam
        self.startsAt = startsAt
        self.odds = odds
        self.isOpen = isOpen
        self.result = result
    }

    /// Whether bets with money are taken now.
    public var takesBets: Bool { isOpen && result == nil }

    /// The hash fields read for a catalogue event, in order.
    public static let storedFields = ["catalogue", "open", "title", "home_team", "away_team", "starts_at", "odds", "result"]
    /// The fields `DELETE` removes besides `catalogue` and `open` (the result stays).
    static let descriptiveFields = ["title", "home_team", "away_team", "starts_at", "odds"]

    /// Nil when the event is not in the catalogue (or its fields are damaged).
    init?(id: String, fields: [String?]) {
        guard fields.count == Self.storedFields.count, fields[0] != nil, let title = fields[2], let home = fields[3],
            let away = fields[4], let startsAt = fields[5].flatMap({ Int64($0) }), let odds = fields[6].flatMap({ Int64($0) })
        else { return nil }
        self.init(
            id: id, title: title, homeTeam: home, awayTeam: away, startsAt: startsAt, odds: Odds(hundredths: odds),
            isOpen: fields[1] == "1", result: fields[7].flatMap(EventResult.init(rawValue:)))
    }

    /// The latest start time a catalogue event may have: its member keeps 13 digits of milliseconds
    /// (2286-11-20), so that the members sort by time.
    public static let latestStart: Int64 = 9_999_999_999_999

    /// The event's member in the catalogue indexes: the start time as 13 digits, then the id, so the
    /// members sort by start time and a listing can go on after any one of them.
    public static func member(id: String, startsAt: Int64) -> String {
        let digits = String(max(0, startsAt))
        return String(repeating: "0", count: max(0, 13 - digits.count)) + digits + "-" + id
    }

    /// True for a listing cursor: a member as `member(id:startsAt:)` makes it.
    public static func isValidCursor(_ cursor: String) -> Bool {
        let bytes = Array(cursor.utf8)
        guard bytes.count > 14, bytes[13] == UInt8(ascii: "-") else { return false }
        return bytes[..<13].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } && EventID.isValid(cursor.dropFirst(14))
    }
}

/// The event catalogue in Redis: what administrators create, edit and delete, and what players list.
public struct CatalogueStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    public enum CreateOutcome: Sendable, Equatable {
        case created(CatalogueEvent)
        case exists
        /// The event has a result already.
        case closed(EventResult)
    }

    public func create(_ event: CatalogueEvent) async throws -> CreateOutcome {
        let member = CatalogueEvent.member(id: event.id, startsAt: event.startsAt)
        let reply = try await redis.eval(
            Scripts.createCatalogueEvent, keys: [keys.event(event.id), keys.catalogue, keys.openCatalogue],
            arguments: [member, event.isOpen ? "1" : "0"] + Self.fieldValues(of: event)
        ).strings(for: "create_catalogue_event")
        switch reply.first {
        case "created": return .created(event)
        case "exists": return .exists
        case "closed": return .closed(EventResult(rawValue: reply.count > 1 ? reply[1] : "") ?? .lose)
        default: throw RedisError.unexpectedReply(command: "create_catalogue_event", reply: "\(reply)")
        }
    }

    /// What an administrator may change; nil leaves a field as it is.
    public struct Changes: Sendable, Equatable {
        public var title: String?
        public var homeTeam: String?
        public var awayTeam: String?
        public var startsAt: Int64?
        public var odds: Odds?
        public var isOpen: Bool?

        public init() {}
    }

    public enum UpdateOutcome: Sendable, Equatable {
        case updated(CatalogueEvent)
        case missing
        /// Opening was asked for, but the event has a result.
        case closed(EventResult)
    }

    public func update(id: String, _ changes: Changes) async throws -> UpdateOutcome {
        var fields: [String] = []
        if let title = changes.title { fields += ["title", title] }
        if let home = changes.homeTeam { fields += ["home_team", home] }
        if let away = changes.awayTeam { fields += ["away_team", away] }
        if let startsAt = changes.startsAt { fields += ["starts_at", String(startsAt)] }
        if let odds = changes.odds { fields += ["odds", String(odds.hundredths)] }
        let member = changes.startsAt.map { CatalogueEvent.member(id: id, startsAt: $0) } ?? ""
        let open = changes.isOpen.map { $0 ? "1" : "0" } ?? ""
        let reply = try await redis.eval(
            Scripts.updateCatalogueEvent, keys: [keys.event(id), keys.catalogue, keys.openCatalogue], arguments: [member, open] + fields
        ).strings(for: "update_catalogue_event")
        switch reply.first {
        case "updated":
            guard let event = try await event(id: id) else { return .missing }
            return .updated(event)
        case "missing": return .missing
        case "closed": return .closed(EventResult(rawValue: reply.count > 1 ? reply[1] : "") ?? .lose)
        default: throw RedisError.unexpectedReply(command: "update_catalogue_event", reply: "\(reply)")
        }
    }

    public enum DeleteOutcome: Sendable, Equatable {
        case deleted
        case missing
        case hasBets(Int)
    }

    public func delete(id: String) async throws -> DeleteOutcome {
        let reply = try await redis.eval(
            Scripts.deleteCatalogueEvent, keys: [keys.event(id), keys.eventBets(id), keys.catalogue, keys.openCatalogue],
            arguments: CatalogueEvent.descriptiveFields
        ).strings(for: "delete_catalogue_event")
        switch reply.first {
        case "deleted": return .deleted
        case "missing": return .missing
        case "has_bets": return .hasBets(reply.count > 1 ? Int(reply[1]) ?? 0 : 0)
        default: throw RedisError.unexpectedReply(command: "delete_catalogue_event", reply: "\(reply)")
        }
    }

    public func event(id: String) async throws -> CatalogueEvent? {
        CatalogueEvent(id: id, fields: try await redis.hmget(keys.event(id), CatalogueEvent.storedFields))
    }

    /// Catalogue events by start time, `limit` at most, after `cursor` (a member of the index). Only
    /// those taking bets when `openOnly`. The next page's cursor is nil on the last page.
    public func list(openOnly: Bool, limit: Int, after cursor: String?) async throws -> (events: [CatalogueEvent], nextCursor: String?) {
        let members = try await redis.zrangeByLex(
            openOnly ? keys.openCatalogue : keys.catalogue, min: cursor.map { .exclusive($0) } ?? .minimum, max: .maximum,
            limit: (0, limit + 1))
        let page = members.prefix(limit)
        let ids = page.map { String($0.dropFirst(14)) }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HMGET", arguments: [keys.event($0)] + CatalogueEvent.storedFields) })
        var events: [CatalogueEvent] = []
        for (id, reply) in zip(ids, replies) {
            if let event = CatalogueEvent(id: id, fields: try reply.get().optionalStrings(for: "HMGET")) { events.append(event) }
        }
        return (events, members.count > limit ? page.last : nil)
    }

    private static func fieldValues(of event: CatalogueEvent) -> [String] {
        [
            "title", event.title, "home_team", event.homeTeam, "away_team", event.awayTeam, "starts_at", String(event.startsAt), "odds",
            String(event.odds.hundredths),
        ]
    }
}
