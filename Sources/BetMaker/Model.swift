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

/// What a bet with money holds beyond an anonymous one: whose account paid the stake, the odds
/// locked in when it was placed, and what a win pays.
public struct Wager: Sendable, Equatable {
    public let userID: Int
    public let accountID: Int
    public let odds: Odds
    /// Credited to the account when the bet is won: stake × odds, rounded down to the cent.
    public let payout: Money

    public init(userID: Int, accountID: Int, odds: Odds, payout: Money) {
        self.userID = userID
        self.accountID = accountID
        self.odds = odds
        self.payout = payout
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
    /// Set for a bet placed with money from an account; nil for an anonymous bet.
    public let wager: Wager?

    public init(
        id: String, eventID: String, amount: Money, status: BetStatus, createdAt: Int64, settledAt: Int64? = nil, wager: Wager? = nil
    ) {
        self.id = id
        self.eventID = eventID
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.settledAt = settledAt
        self.wager = wager
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
        if let wager {
            json.field("account_id", wager.accountID)
            json.field("odds", wager.odds.description)
            json.field("payout", wager.payout.description)
        }
        json.endObject()
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 200)
        write(to: &writer)
        return writer.bytes
    }

    /// The bet as its placing request was answered: pending, not settled. An idempotent replay
    /// answers this, whatever happened to the bet since.
    public var asPlaced: Bet {
        Bet(id: id, eventID: eventID, amount: amount, status: .pending, createdAt: createdAt, wager: wager)
    }
}

/// One entry of an event's bet list: the bet id, and for a bet with money its user and account, so
/// that settlement knows which wallets to pay from the list alone (a script must be given every key
/// it touches, and the list is what the worker reads anyway). `<bet id>` or `<bet id>:<user>:<account>`.
public struct EventListEntry: Sendable {
    public let betID: String
    public let owner: (userID: Int, accountID: Int)?

    public init(betID: String, owner: (userID: Int, accountID: Int)? = nil) {
        self.betID = betID
        self.owner = owner
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            self.init(betID: String(parts[0]))
        case 3:
            guard let userID = Int(parts[1]), let accountID = Int(parts[2]), userID > 0, accountID > 0 else { return nil }
            self.init(betID: String(parts[0]), owner: (userID, accountID))
        default:
            return nil
        }
    }
}

/// Decimal odds of the first team winning, in hundredths: `1.85` is 185. A win pays stake × odds,
/// rounded down to the cent, computed by `place_wallet_bet` when the bet is placed.
public struct Odds: Sendable, Hashable, CustomStringConvertible {
    public let hundredths: Int64

    public init(hundredths: Int64) {
        self.hundredths = hundredths
    }

    public static let minimum = Odds(hundredths: 101)
    public static let maximum = Odds(hundredths: 100_000)
    public static let rule = "must be decimal odds from 1.01 to 1000.00, at most two decimal places"

    /// Odds from their exact decimal text (the grammar of amounts), 1.01 to 1000.00.
    public init?(parsing text: Substring) {
        guard let value = try? Money(parsing: text), (Self.minimum.hundredths...Self.maximum.hundredths).contains(value.cents) else {
            return nil
        }
        hundredths = value.cents
    }

    public var description: String { Money(cents: hundredths).description }
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
    /// Credited to the accounts of won bets with money so far.
    public let paidOut: Money
    /// The event's catalogue entry, when it has one.
    public let catalogue: CatalogueEvent?

    public init(
        id: String, result: EventResult?, reportedAt: Int64?, settledAt: Int64?, bets: Int, won: Int, lost: Int, staked: Money,
        paidOut: Money = Money(cents: 0), catalogue: CatalogueEvent? = nil
    ) {
        self.id = id
        self.result = result
        self.reportedAt = reportedAt
        self.settledAt = settledAt
        self.bets = bets
        self.won = won
        self.lost = lost
        self.staked = staked
        self.paidOut = paidOut
        self.catalogue = catalogue
    }

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
        json.field("total_paid_out", paidOut.description)
        json.field("reported_at", timestamp: reportedAt)
        json.field("settled", settledAt != nil)
        json.field("settled_at", timestamp: settledAt)
        json.key("catalogue")
        if let catalogue { catalogue.write(to: &json) } else { json.null() }
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

    /// Milliseconds since 1970 from an RFC 3339 date-time: `2026-11-22T21:30:05Z`, with optional
    /// fractions of a second (up to milliseconds are kept) and a `Z` or `±hh:mm` offset. Nil for
    /// anything else, including dates that do not exist.
    public static func parseRFC3339(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ count: Int) -> Int64? {
            guard position + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[position..<(position + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2), expect("Tt"),
            let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var milliseconds: Int64 = 0
        if expect(".") {
            let start = position
            var scale: Int64 = 100
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                milliseconds += Int64(bytes[position] - UInt8(ascii: "0")) * scale
                scale /= 10
                position += 1
            }
            guard position > start else { return nil }
        }
        var offsetMinutes: Int64 = 0
        if !expect("Zz") {
            guard position < bytes.count else { return nil }
            let sign: Int64 = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHours = number(2), expect(":"), let minutes = number(2), offsetHours < 24, minutes < 60 else {
                return nil
            }
            offsetMinutes = sign * (offsetHours * 60 + minutes)
        }
        let daysInMonth: [Int64] = [
            31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
        ]
        guard position == bytes.count, (1...12).contains(month), day >= 1, day <= daysInMonth[Int(month - 1)], hour < 24, minute < 60,
            second < 60
        else { return nil }
        // Days from civil (Howard Hinnant), the inverse of `appendRFC3339`.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + milliseconds
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
