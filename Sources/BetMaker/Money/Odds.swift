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
