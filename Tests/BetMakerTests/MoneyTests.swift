import BetMaker
import Synchronization
import Testing

@Suite struct MoneyTests {
    static let maximum = Money(cents: 100_000_000)

    @Test(
        arguments: [
            ("10", 1000), ("10.5", 1050), ("10.50", 1050), ("0.01", 1), ("0.1", 10), ("1000000", 100_000_000),
            ("1000000.00", 100_000_000), ("999999.99", 99_999_999),
        ] as [(String, Int64)])
    func acceptsStakes(text: String, cents: Int64) throws {
        #expect(try Money.stake(parsing: Substring(text), maximum: Self.maximum) == Money(cents: cents))
    }

    @Test(arguments: [
        ("0", Money.ParseError.notPositive), ("0.00", .notPositive), ("-1", .notADecimal), ("10.123", .tooManyDecimals),
        ("10.500", .tooManyDecimals), ("abc", .notADecimal), ("NaN", .notADecimal), ("1e400", .notADecimal), ("1E2", .notADecimal),
        ("", .notADecimal), (".5", .notADecimal), ("5.", .notADecimal), ("+5", .notADecimal), (" 5", .notADecimal),
        ("007", .notADecimal), ("1,5", .notADecimal), ("1000000.01", .aboveMaximum(Self.maximum)),
        ("99999999999999999999", .notADecimal), ("Infinity", .notADecimal), ("0x10", .notADecimal),
    ])
    func rejectsStakes(text: String, error: Money.ParseError) {
        #expect(throws: error) { try Money.stake(parsing: Substring(text), maximum: Self.maximum) }
    }

    @Test func printsTwoDecimals() {
        #expect(Money(cents: 1050).description == "10.50")
        #expect(Money(cents: 1).description == "0.01")
        #expect(Money(cents: 100_000_000).description == "1000000.00")
        #expect(Money(cents: -205).description == "-2.05")
    }
}

@Suite struct BetIDTests {
    @Test func idsAreUniqueFixedWidthAndSortLikeTime() {
        let clock = ManualClock(start: 1_800_000_000_000)
        let generator = IDGenerator(node: 7, clock: { clock.now })
        var ids: [String] = []
        for step in 0..<10_000 {
            if step % 1000 == 0 { clock.advance(by: 1) }
            ids.append(generator.next())
        }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 12 && IDGenerator.isWellFormed($0) })
        #expect(ids == ids.sorted())
    }

    @Test func aClockGoingBackwardsDoesNotBreakTheOrder() {
        let clock = ManualClock(start: 1_800_000_000_000)
        let generator = IDGenerator(node: 1, clock: { clock.now })
        let first = generator.next()
        clock.advance(by: -5000)
        let second = generator.next()
        #expect(second > first)
    }

    @Test func moreThan1024InOneMillisecondSpillOver() {
        let generator = IDGenerator(node: 1, clock: { 1_800_000_000_000 })
        let ids = (0..<5000).map { _ in generator.next() }
        #expect(Set(ids).count == 5000)
        #expect(ids == ids.sorted())
    }

    @Test func recognisesWellFormedIDs() {
        #expect(IDGenerator.isWellFormed("0ABCDEFGHJKM"))
        #expect(!IDGenerator.isWellFormed("0ABCDEFGHJKI"))  // I is not in Crockford's alphabet
        #expect(!IDGenerator.isWellFormed("0ABCDEFGHJKMN"))
        #expect(!IDGenerator.isWellFormed("0abcdefghjkm"))
    }
}

final class ManualClock: Sendable {
    private let value: Mutex<Int64>
    init(start: Int64) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func advance(by milliseconds: Int64) { value.withLock { $0 += milliseconds } }
}
