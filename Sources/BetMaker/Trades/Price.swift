/// A price in exact units of 1e-8 USD (`Price(units: 100_000_000)` is one dollar). Read from the exact
/// text of a JSON number (CoinMarketCap sends up to 15 or more decimals) and rounded to 8 places half
/// to even; printed with 8 decimals. A binary float never holds a price.
public struct Price: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let units: Int64

    /// Units in one USD.
    public static let scale: Int64 = 100_000_000
    /// The largest price kept: 2^52 - 1 units (about 45 million USD), so that a price, and a `down`
    /// trade's liquidation price (at most twice its start), are exact as doubles: as Redis sorted-set
    /// scores (open trades are indexed by liquidation price) and as Lua numbers (`close_trades`).
    public static let maximum = Price(units: (1 << 52) - 1)

    public init(units: Int64) {
        self.units = units
    }

    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.units < rhs.units }

    /// Eight decimals always: `97012.34567890`.
    public var description: String {
        let whole = units / Self.scale
        let fraction = String(units % Self.scale)
        return "\(whole)." + String(repeating: "0", count: 8 - fraction.count) + fraction
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notADecimal
        case notPositive
        case tooLarge

        public var description: String {
            switch self {
            case .notADecimal: "must be a positive decimal number such as 97012.5"
            case .notPositive: "must be greater than zero (after rounding to 8 decimal places)"
            case .tooLarge: "must be at most \(Price.maximum)"
            }
        }
    }

    /// Parses the exact text of a decimal (digits, optionally a point and digits, optionally an
    /// exponent as JSON allows: `1.5e3`), rounding to 8 decimal places half to even.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        var bytes = Array(text.utf8)
        var exponent = 0
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            var digits = bytes[(e + 1)...]
            var negative = false
            if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                negative = sign == UInt8(ascii: "-")
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(Self.isDigit) else { throw .notADecimal }
            exponent = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } * (negative ? -1 : 1)
            bytes = Array(bytes[..<e])
        }
        let point = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(point ?? bytes.endIndex)]
        let fraction = point.map { bytes[($0 + 1)...] } ?? []
        guard !whole.isEmpty, whole.allSatisfy(Self.isDigit), fraction.allSatisfy(Self.isDigit), point == nil || !fraction.isEmpty
        else { throw .notADecimal }
        // All digits as one integer, with the point `scaleShift` places from the right of the units.
        var digits = Array(whole) + Array(fraction)
        while digits.count > 1, digits.first == UInt8(ascii: "0") { digits.removeFirst() }
        let decimals = fraction.count - exponent
        // Digits beyond the 8th decimal decide the rounding; those beyond 16 whole digits are too large.
        let keep = digits.count - max(0, decimals - 8)
        let shift = max(0, 8 - decimals)
        guard keep + shift <= 17 else { throw .tooLarge }
        var units: Int64 = 0
        for digit in digits.prefix(max(0, keep)) { units = units * 10 + Int64(digit - UInt8(ascii: "0")) }
        for _ in 0..<shift { units *= 10 }
        if keep < digits.count {
            let dropped = digits[max(0, keep)...]
            let first = dropped.first! - UInt8(ascii: "0")
            let restNonZero = dropped.dropFirst().contains { $0 != UInt8(ascii: "0") }
            // When every digit is dropped, the kept part is 0 and the first dropped digit is the 9th decimal
            // only if keep == 0; a number below 1e-9 has no such digit.
            let firstIsNinth = keep >= 0
            if firstIsNinth && (first > 5 || (first == 5 && (restNonZero || units % 2 == 1))) { units += 1 }
        }
        guard units > 0 else { throw .notPositive }
        guard units <= Self.maximum.units else { throw .tooLarge }
        self.units = units
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
