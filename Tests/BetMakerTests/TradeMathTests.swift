import Testing

@testable import BetMaker

/// Prices read exactly and the arithmetic of trades: profit, rounding toward the house, liquidation,
/// the loss cap, and the README's worked example.
@Suite struct TradeMathTests {
    func price(_ text: String) throws -> Price { try Price(parsing: text) }
    func money(_ text: String) throws -> Money { try Money(parsing: text) }

    @Test func pricesAreReadFromTheirTextAndRoundedHalfToEvenAtEightPlaces() throws {
        #expect(try price("97012.5").units == 9_701_250_000_000)
        #expect(try price("97012.5").description == "97012.50000000")
        #expect(try price("1.5e3").description == "1500.00000000")
        #expect(try price("0.000000015").units == 2)  // 1|5 → even: 2
        #expect(try price("0.000000025").units == 2)  // 2|5 → even: 2
        #expect(try price("0.0000000250001").units == 3)  // above half
        #expect(try price("97012.123456775").description == "97012.12345678")
        #expect(try price("97012.123456785").description == "97012.12345678")
        #expect(try price("97012.12345678499999999").description == "97012.12345678")
        #expect(try price("45035996.27370495") == Price.maximum)
        #expect(throws: Price.ParseError.tooLarge) { try Price(parsing: "45035996.27370496") }
        #expect(throws: Price.ParseError.notPositive) { try Price(parsing: "0.000000004") }
        #expect(throws: Price.ParseError.notPositive) { try Price(parsing: "1e-9") }
        for bad in ["", "-1", "1.", ".5", "1e", "abc", "1,5", " 1"] {
            #expect(throws: Price.ParseError.notADecimal, "\(bad)") { try Price(parsing: bad) }
        }
    }

    /// README, "Trades": the worked example.
    @Test func theReadmeWorkedExample() throws {
        let stake = try money("100.00")
        let start = try price("50000")
        let up = TradeMath.outcome(stake: stake, leverage: 10, direction: .up, start: start, end: try price("50250.01"), stoppedOut: false)
        #expect(up.status == .won && up.profit == cents("5.00") && up.payout == cents("105.00"))
        let down = TradeMath.outcome(
            stake: stake, leverage: 10, direction: .down, start: start, end: try price("50250.01"), stoppedOut: false)
        #expect(down.status == .lost && down.profit == Money(cents: -501) && down.payout == cents("94.99"))
        #expect(TradeMath.liquidationPrice(start: start, leverage: 10, direction: .up) == usd("45000"))
        #expect(TradeMath.liquidationPrice(start: start, leverage: 10, direction: .down) == usd("55000"))
        let stopped = TradeMath.outcome(stake: stake, leverage: 10, direction: .up, start: start, end: try price("45000"), stoppedOut: true)
        #expect(stopped.status == .lost && stopped.profit == Money(cents: -10_000) && stopped.payout == Money(cents: 0))
    }

    @Test func profitIsRoundedDownToTheCentWhateverItsSign() throws {
        let start = Price(units: 300_000_000)
        let tick = Price(units: 300_000_001)
        // +0.000001 cents up: the gain's fraction is the house's, so even.
        #expect(TradeMath.profit(stake: Money(cents: 100), leverage: 3, direction: .up, start: start, end: tick) == Money(cents: 0))
        // The same move against a down trade: a loss of a fraction of a cent is a cent.
        #expect(TradeMath.profit(stake: Money(cents: 100), leverage: 3, direction: .down, start: start, end: tick) == Money(cents: -1))
        let flat = TradeMath.outcome(stake: Money(cents: 100), leverage: 3, direction: .up, start: start, end: start, stoppedOut: false)
        #expect(flat.status == .even && flat.payout == Money(cents: 100))
    }

    @Test func aLossNeverExceedsTheStakeAndAGainIsCapped() throws {
        let start = try price("100")
        // Leverage 10, price down 20 %: twice the stake, capped at the stake.
        #expect(
            TradeMath.profit(stake: Money(cents: 5000), leverage: 10, direction: .up, start: start, end: try price("80"))
                == Money(cents: -5000))
        // Stake × leverage × price ratio far past Int64: exact in Int128, then capped.
        let huge = TradeMath.profit(
            stake: Money(cents: 10_000_000_000), leverage: 1000, direction: .up, start: Price(units: 1), end: Price.maximum)
        #expect(huge == TradeMath.maximumProfit)
        // Int128 keeps an exact result whose product overflows Int64: 10^10 × 1000 × 10^15 / 10^15.
        let large = TradeMath.profit(
            stake: Money(cents: 10_000_000_000), leverage: 1000, direction: .up, start: Price(units: 1_000_000_000_000_000),
            end: Price(units: 2_000_000_000_000_000))
        #expect(large == Money(cents: 10_000_000_000_000))
    }

    @Test func liquidationPricesAreRoundedTowardTheHouse() throws {
        let start = Price(units: 10_000_000_001)
        // up: start × 2/3 = 6666666667.33… → 6666666668 (stopped out a hair earlier, never later).
        #expect(TradeMath.liquidationPrice(start: start, leverage: 3, direction: .up) == Price(units: 6_666_666_668))
        // down: start × 4/3 = 13333333334.67… → 13333333334.
        #expect(TradeMath.liquidationPrice(start: start, leverage: 3, direction: .down) == Price(units: 13_333_333_334))
        // Leverage 1 on up would need a price of 0: never stopped out. On down, at twice the price.
        #expect(TradeMath.liquidationPrice(start: start, leverage: 1, direction: .up) == nil)
        #expect(TradeMath.liquidationPrice(start: start, leverage: 1, direction: .down) == Price(units: 20_000_000_002))
        let liquidation = TradeMath.liquidationPrice(start: start, leverage: 3, direction: .up)
        #expect(TradeMath.isStoppedOut(at: Price(units: 6_666_666_668), liquidation: liquidation, direction: .up))
        #expect(!TradeMath.isStoppedOut(at: Price(units: 6_666_666_669), liquidation: liquidation, direction: .up))
        #expect(!TradeMath.isStoppedOut(at: Price(units: 1), liquidation: nil, direction: .up))
        // At the liquidation price the loss is the whole stake (or within a cent of it, toward the house).
        let atLiquidation = TradeMath.profit(
            stake: Money(cents: 999), leverage: 3, direction: .up, start: start, end: Price(units: 6_666_666_668))
        #expect(atLiquidation.cents >= -999 && atLiquidation.cents <= -998)
    }

    @Test func theToleranceIsExact() throws {
        let reference = try price("100")
        #expect(TradeMath.isWithin(basisPoints: 50, of: reference, try price("100.5")))
        #expect(!TradeMath.isWithin(basisPoints: 50, of: reference, try price("100.50000001")))
        #expect(TradeMath.isWithin(basisPoints: 50, of: reference, try price("99.5")))
        #expect(!TradeMath.isWithin(basisPoints: 0, of: reference, try price("99.99999999")))
    }
}

/// A price or an amount written in a test as text; the texts are constants, so they always parse.
func usd(_ text: String) -> Price { try! Price(parsing: text) }
func cents(_ text: String) -> Money { try! Money(parsing: text) }
