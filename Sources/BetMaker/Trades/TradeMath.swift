/// The arithmetic of a trade, exact and in integers: stakes in cents, prices in 1e-8 USD, products in
/// Int128 (a stake of 10^10 cents × leverage 1000 × a price difference of 10^15 units overflows
/// Int64). Every rounding goes toward the house. docs/ARCHITECTURE.md ("Trades") and the README's
/// worked example explain the model.
public enum TradeMath {
    /// The profit in cents of `stake` at `leverage` from `start` to `end`: stake × leverage ×
    /// (end − start) / start, its sign flipped for `down`, rounded down to the cent (toward the house:
    /// a gain loses its fraction, a loss gains one), never a loss beyond the stake and never more than
    /// `maximumProfit`.
    public static func profit(stake: Money, leverage: Int, direction: TradeDirection, start: Price, end: Price) -> Money {
        let difference = Int128(end.units) - Int128(start.units)
        let signed = direction == .up ? difference : -difference
        let numerator = Int128(stake.cents) * Int128(leverage) * signed
        let profit = floorDivide(numerator, Int128(start.units))
        return Money(cents: Int64(min(max(profit, -Int128(stake.cents)), Int128(maximumProfit.cents))))
    }

    /// The most a trade can win: 10^13 USD, far beyond any real price move, and below 2^53 cents so
    /// that the close script's arithmetic on it (Lua numbers are doubles) stays exact. Without it a
    /// price going from 1e-8 to millions at leverage 1000 would overflow Int64.
    public static let maximumProfit = Money(cents: 1_000_000_000_000_000)

    /// The price at which the loss reaches the stake: start × (1 − 1/leverage) for `up`, start ×
    /// (1 + 1/leverage) for `down`, rounded toward the house (up for `up`, down for `down`), so the
    /// trade is stopped out no later than at the exact price. Nil for leverage 1 on `up`: the price
    /// would have to reach 0, so it is never stopped out.
    public static func liquidationPrice(start: Price, leverage: Int, direction: TradeDirection) -> Price? {
        let units = Int128(start.units)
        let factor = Int128(leverage)
        switch direction {
        case .up:
            guard leverage > 1 else { return nil }
            return Price(units: Int64(ceilDivide(units * (factor - 1), factor)))
        case .down:
            return Price(units: Int64(min(floorDivide(units * (factor + 1), factor), Int128(Int64.max))))
        }
    }

    /// True when `price` reaches the liquidation price: at or below it for `up`, at or above for `down`.
    public static func isStoppedOut(at price: Price, liquidation: Price?, direction: TradeDirection) -> Bool {
        guard let liquidation else { return false }
        return direction == .up ? price <= liquidation : price >= liquidation
    }

    /// What a trade closing at `end` pays back, and how it ended. A stopped-out trade pays nothing.
    public static func outcome(
        stake: Money, leverage: Int, direction: TradeDirection, start: Price, end: Price, stoppedOut: Bool
    ) -> (status: TradeStatus, profit: Money, payout: Money) {
        let profit =
            stoppedOut ? Money(cents: -stake.cents) : profit(stake: stake, leverage: leverage, direction: direction, start: start, end: end)
        let status: TradeStatus = profit.cents > 0 ? .won : profit.cents < 0 ? .lost : .even
        return (status, profit, stake + profit)
    }

    /// `|end − start| / start` within `basisPoints` hundredths of a percent, exactly.
    public static func isWithin(basisPoints: Int, of reference: Price, _ price: Price) -> Bool {
        let difference = Int128(price.units) - Int128(reference.units)
        return difference.magnitude * 10_000 <= UInt128(reference.units) * UInt128(basisPoints)
    }

    static func floorDivide(_ numerator: Int128, _ denominator: Int128) -> Int128 {
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        return remainder != 0 && (remainder < 0) != (denominator < 0) ? quotient - 1 : quotient
    }

    static func ceilDivide(_ numerator: Int128, _ denominator: Int128) -> Int128 {
        -floorDivide(-numerator, denominator)
    }
}
