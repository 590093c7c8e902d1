import RedisClient

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
            Scripts.createCatalogueEvent, keys: [keys.event(event.id)] + indexes(of: event.id),
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
            Scripts.updateCatalogueEvent, keys: [keys.event(id)] + indexes(of: id), arguments: [member, open] + fields
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
            Scripts.deleteCatalogueEvent, keys: [keys.event(id), keys.eventBets(id)] + indexes(of: id),
            arguments: CatalogueEvent.descriptiveFields
        ).strings(for: "delete_catalogue_event")
        switch reply.first {
        case "deleted": return .deleted
        case "missing": return .missing
        case "has_bets": return .hasBets(reply.count > 1 ? Int(reply[1]) ?? 0 : 0)
        default: throw RedisError.unexpectedReply(command: "delete_catalogue_event", reply: "\(reply)")
        }
    }

    /// The catalogue and open catalogue of the event's shard, which its scripts keep with its hash.
    private func indexes(of eventID: String) -> [String] {
        let shard = keys.shard(of: eventID)
        return [keys.catalogue(shard: shard), keys.openCatalogue(shard: shard)]
    }

    public func event(id: String) async throws -> CatalogueEvent? {
        CatalogueEvent(id: id, fields: try await redis.hmget(keys.event(id), CatalogueEvent.storedFields))
    }

    /// Which catalogue events a listing shows besides "all of them".
    public struct Filter: Sendable, Equatable {
        /// Only those in this workflow state.
        public var state: EventState?
        /// Only those assigned to or taken by this trader.
        public var traderID: Int?

        public init(state: EventState? = nil, traderID: Int? = nil) {
            self.state = state
            self.traderID = traderID
        }

        func includes(_ event: CatalogueEvent) -> Bool {
            (state == nil || event.state == state) && (traderID == nil || event.traderID == traderID)
        }

        public var isEmpty: Bool { state == nil && traderID == nil }
    }

    /// Catalogue events by start time, `limit` at most, after `cursor` (a member of the index: start
    /// time and id, unique across the shards, so the shards' indexes merge into one order). Only
    /// those taking bets when `openOnly`; only those `filter` includes. The next page's cursor is nil on
    /// the last page.
    ///
    /// A filter is applied to the events read, as `GET /bets?status=` is: states live in the event
    /// hashes, and per-state indexes would have to be kept in step by every transition, the catalogue
    /// scripts and `report_result`. At most `NewestFirstPages.maximumWindows` windows of `limit` events are read
    /// per page, so a rare state costs a bounded amount per request; its page may be short, even empty,
    /// while its cursor goes on.
    public func list(
        openOnly: Bool, filter: Filter = Filter(), limit: Int, after cursor: String?
    ) async throws -> (events: [CatalogueEvent], nextCursor: String?) {
        var found: [CatalogueEvent] = []
        var after = cursor
        for _ in 0..<(filter.isEmpty ? 1 : NewestFirstPages.maximumWindows) {
            // Each shard's next members after the cursor, merged: the first `limit - found.count` of all.
            let ranges = try await redis.pipeline(
                keys.allShards.map { shard in
                    .zrangeByLex(
                        openOnly ? keys.openCatalogue(shard: shard) : keys.catalogue(shard: shard),
                        min: after.map { .exclusive($0) } ?? .minimum, max: .maximum, limit: (0, limit - found.count + 1))
                })
            var members: [String] = []
            for range in ranges { members += try range.get().strings(for: "ZRANGE") }
            members.sort()
            let page = members.prefix(limit - found.count)
            let ids = page.map { String($0.dropFirst(14)) }
            let replies = try await redis.pipeline(
                ids.map { RedisCommand("HMGET", arguments: [keys.event($0)] + CatalogueEvent.storedFields) })
            for (id, reply) in zip(ids, replies) {
                if let event = CatalogueEvent(id: id, fields: try reply.get().optionalStrings(for: "HMGET")), filter.includes(event) {
                    found.append(event)
                }
            }
            guard members.count > page.count else { return (found, nil) }
            after = page.last
            if found.count >= limit { break }
        }
        return (found, after)
    }

    private static func fieldValues(of event: CatalogueEvent) -> [String] {
        [
            "title", event.title, "home_team", event.homeTeam, "away_team", event.awayTeam, "starts_at", String(event.startsAt), "odds",
            String(event.odds.hundredths),
        ]
    }
}
