#if canImport(Glibc)
    import Glibc
#endif

public enum BetStatus: String, Sendable, CaseIterable {
    case pending, won, lost
}

/// The reported outcome of an event, from the first team's side: WIN settles its bets as won; LOSE
/// (a loss or a draw) settles them as lost.
public enum EventResult: String, Sendable, CaseIterable {
    case win = "WIN"
    case lose = "LOSE"

    public var settledStatus: BetStatus { self == .win ? .won : .lost }
}

/// Event ids: whatever the operator's feed uses, within a safe alphabet. The alphabet leaves out
/// `{` and `}` (Redis Cluster hash tags), `/` and `%` (URL paths) and anything needing escapes.
public enum EventID {
    public static let maximumLength = 128

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let utf8 = text.utf8
        return !utf8.isEmpty && utf8.count <= maximumLength && utf8.allSatisfy(isAllowed)
    }

    public static let rule = "1 to 128 characters from A-Z a-z 0-9 . _ : -"

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}

public struct Bet: Sendable, Equatable {
    public let id: String
    public let eventID: String
    public let amount: Money
    public var status: BetStatus
    /// Milliseconds since 1970.
    public let createdAt: Int64
    public var settledAt: Int64?

    public init(id: String, eventID: String, amount: Money, status: BetStatus, createdAt: Int64, settledAt: Int64? = nil) {
        self.id = id
        self.eventID = eventID
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.settledAt = settledAt
    }

    /// The bet as the API shows it.
    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("event_id", eventID)
        json.field("amount", amount.description)
        json.field("status", status.rawValue)
        json.field("created_at", Timestamp.rfc3339(createdAt))
        json.field("settled_at", settledAt.map(Timestamp.rfc3339))
        json.endObject()
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 160)
        write(to: &writer)
        return writer.bytes
    }
}

/// What the API tells about one event.
public struct EventSummary: Sendable, Equatable {
    public let id: String
    public let result: EventResult?
    public let reportedAt: Int64?
    public let settledAt: Int64?
    public let bets: Int
    public let won: Int
    public let lost: Int
    public let staked: Money

    public var pending: Int { bets - won - lost }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("event_id", id)
        json.field("status", result?.rawValue ?? "open")
        json.key("bets")
        json.beginObject()
        json.field("total", bets)
        json.field("pending", pending)
        json.field("won", won)
        json.field("lost", lost)
        json.endObject()
        json.field("total_staked", staked.description)
        json.field("reported_at", reportedAt.map(Timestamp.rfc3339))
        json.field("settled", settledAt != nil)
        json.field("settled_at", settledAt.map(Timestamp.rfc3339))
        json.endObject()
    }
}

public enum Timestamp {
    /// RFC 3339 in UTC with milliseconds: `2026-11-22T21:30:05.042Z`.
    public static func rfc3339(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }
}
