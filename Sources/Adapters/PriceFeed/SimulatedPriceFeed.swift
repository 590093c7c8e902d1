import BetMaker
import Synchronization

/// A seeded random walk: the default feed without a CoinMarketCap key, so `make run` works offline,
/// and the same walk for the same seed. Each read moves every symbol by at most ±0.1 % (a whole
/// number of 1e-8 USD units), never below one unit.
public final class SimulatedPriceFeed: PriceFeed {
    public let name = "simulated"
    private let state: Mutex<(generator: SplitMix64, prices: [String: Int64])>

    public init(seed: UInt64, startingPrices: [String: Price] = SimulatedPriceFeed.defaultStartingPrices) {
        state = Mutex((SplitMix64(seed: seed), startingPrices.mapValues(\.units)))
    }

    /// Near the real prices when this was written; other symbols start at 100 USD.
    public static let defaultStartingPrices = [
        "BTC": Price(units: 97_000 * Price.scale), "ETH": Price(units: 3_500 * Price.scale),
    ]

    public func prices(for symbols: [String]) async throws -> [String: Price] {
        state.withLock { state in
            var result: [String: Price] = [:]
            for symbol in symbols {
                let current = state.prices[symbol] ?? 100 * Price.scale
                let span = max(1, current / 1000)
                let step = Int64(state.generator.next() % UInt64(2 * span + 1)) - span
                let next = min(max(1, current + step), Price.maximum.units)
                state.prices[symbol] = next
                result[symbol] = Price(units: next)
            }
            return result
        }
    }
}
