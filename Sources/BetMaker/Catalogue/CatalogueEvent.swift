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
    /// The operator's switch: bets are taken only while it is on, the event has no result, no trader
    /// took it and it has not started (`closedReason(at:)`).
    public var isOpen: Bool
    public var result: EventResult?
    /// Where it is in the resulting workflow, and the trader it is assigned to or taken by.
    public var state: EventState
    public var traderID: Int?

    public init(
        id: String, title: String, homeTeam: String, awayTeam: String, startsAt: Int64, odds: Odds, isOpen: Bool,
        result: EventResult? = nil, state: EventState = .open, traderID: Int? = nil
    ) {
        self.id = id
        self.title = title
        self.homeTeam = homeTeam
        self.awayTeam = awayTeam
        self.startsAt = startsAt
        self.odds = odds
        self.isOpen = isOpen
        self.result = result
        self.state = state
        self.traderID = traderID
    }

    /// Why an event takes no bets: the operator closed it, it has a result, a trader took it to report
    /// its result, or it started (betting closes at kick-off).
    public enum ClosedReason: String, Sendable, CaseIterable {
        case closedByOperator = "closed_by_operator"
        case resulted
        case void
        case taken
        case started
    }

    /// Why the event takes no bets at `now` (ms since 1970), in the order the placing scripts check;
    /// nil while it takes them. The scripts decide by Redis's clock; a listing by the API's.
    public func closedReason(at now: Int64) -> ClosedReason? {
        switch state {
        case .void: return .void
        case .resulted: return .resulted
        case _ where !isOpen: return .closedByOperator
        case .inProgress: return .taken
        case _ where now >= startsAt: return .started
        default: return nil
        }
    }

    /// Whether bets are taken at `now` (ms since 1970).
    public func takesBets(at now: Int64) -> Bool { closedReason(at: now) == nil }

    /// The hash fields read for a catalogue event, in order.
    public static let storedFields = [
        "catalogue", "open", "title", "home_team", "away_team", "starts_at", "odds", "result", "state", "trader_id",
    ]
    /// The fields `DELETE` removes besides `catalogue` and `open` (the result stays).
    static let descriptiveFields = ["title", "home_team", "away_team", "starts_at", "odds"]

    /// Nil when the event is not in the catalogue (or its fields are damaged).
    init?(id: String, fields: [String?]) {
        guard fields.count == Self.storedFields.count, fields[0] != nil, let title = fields[2], let home = fields[3],
            let away = fields[4], let startsAt = fields[5].flatMap({ Int64($0) }), let odds = fields[6].flatMap({ Int64($0) })
        else { return nil }
        self.init(
            id: id, title: title, homeTeam: home, awayTeam: away, startsAt: startsAt, odds: Odds(hundredths: odds),
            isOpen: fields[1] == "1", result: fields[7].flatMap(EventResult.init(rawValue:)),
            state: EventState(result: fields[7], state: fields[8]), traderID: fields[9].flatMap { Int($0) })
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
