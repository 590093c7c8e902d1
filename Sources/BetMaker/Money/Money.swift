/// An amount of money in integer minor units (cents). Parsed from and printed as decimal text; a binary
/// floating-point number never holds money anywhere in bet-maker.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let cents: Int64

    public init(cents: Int64) {
        self.cents = cents
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }

    /// The most cents the Lua scripts compute with exactly: their numbers are doubles, whole only up to
    /// 2^53 − 1. Every amount a script adds or multiplies (a stake times the odds, a stake plus the
    /// largest profit, a balance plus a deposit) must stay within it; the settings' limits see to that.
    public static let largestExact = Money(cents: 9_007_199_254_740_991)

    public static func + (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents + rhs.cents) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents - rhs.cents) }

    /// Two decimals always: `10.50`, `0.01`, `1000000.00`.
    public var description: String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notADecimal
        case tooManyDecimals
        case notPositive
        case aboveMaximum(Money)

        public var description: String {
            switch self {
            case .notADecimal: "must be a decimal number such as 10 or 10.50"
            case .tooManyDecimals: "must have at most two decimal places"
            case .notPositive: "must be greater than zero"
            case .aboveMaximum(let maximum): "must be at most \(maximum)"
            }
        }
    }

    /// Parses the exact text of a decimal: digits, optionally a point and one or two digits. No sign,
    /// exponent, spaces or leading zeros; the same grammar for a JSON number's text and for a string.
    public init(parsing text: Substring) throws(ParseError) {
        let bytes = Array(text.utf8)
        let point = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(point ?? bytes.endIndex)]
        let fraction = point.map { bytes[($0 + 1)...] } ?? []
        guard !whole.isEmpty, whole.allSatisfy(Self.isDigit), fraction.allSatisfy(Self.isDigit),
            point == nil || !fraction.isEmpty,
            whole.count == 1 || whole.first != UInt8(ascii: "0")
        else {
            throw .notADecimal
        }
        guard fraction.count <= 2 else { throw .tooManyDecimals }
        // 16 digits of whole units keep cents far inside Int64.
        guard whole.count <= 16 else { throw .notADecimal }
        var cents: Int64 = 0
        for digit in whole { cents = cents * 10 + Int64(digit - UInt8(ascii: "0")) }
        var scale: Int64 = 10
        cents *= 100
        for digit in fraction {
            cents += Int64(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        self.cents = cents
    }

    public init(parsing text: String) throws(ParseError) {
        try self.init(parsing: Substring(text))
    }

    /// Parses a stake: a positive decimal of at most two places, not above `maximum`.
    public static func stake(parsing text: Substring, maximum: Money) throws(ParseError) -> Money {
        let amount = try Money(parsing: text)
        guard amount.cents > 0 else { throw .notPositive }
        guard amount <= maximum else { throw .aboveMaximum(maximum) }
        return amount
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

extension Int {
    /// A non-negative number written as plain decimal digits (no sign, no spaces), at most 18 of them:
    /// how cursors, limits and ids arrive in URLs. `Int("+5")` would take a sign.
    public init?(decimalDigits text: some StringProtocol) {
        let utf8 = text.utf8
        guard (1...18).contains(utf8.count), utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int(text)
        else { return nil }
        self = value
    }
}
