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
        json.field("created_at", timestamp: createdAt)
        json.field("settled_at", timestamp: settledAt)
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
        json.field("reported_at", timestamp: reportedAt)
        json.field("settled", settledAt != nil)
        json.field("settled_at", timestamp: settledAt)
        json.endObject()
    }
}

public enum Timestamp {
    /// RFC 3339 in UTC with milliseconds: `2026-11-22T21:30:05.042Z`.
    public static func rfc3339(_ milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendRFC3339(milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 24 characters of `rfc3339` to `bytes`; the date comes from Howard Hinnant's
    /// days-to-civil algorithm, so no C time functions or strings are involved.
    public static func appendRFC3339(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainderFlooring(dividingBy: 86_400_000)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(millisecondOfDay / 3_600_000, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(millisecondOfDay / 60_000 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(millisecondOfDay / 1000 % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(millisecondOfDay % 1000, 3)
        bytes.append(UInt8(ascii: "Z"))
    }
}

extension Int64 {
    /// Division rounding towards minus infinity, so times before 1970 land on the right day.
    fileprivate func quotientAndRemainderFlooring(dividingBy divisor: Int64) -> (Int64, Int64) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
