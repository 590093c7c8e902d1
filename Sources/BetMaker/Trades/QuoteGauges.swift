import Metrics
import RedisClient

/// How stale the price feed is, as gauges read from Redis at each scrape (in both processes):
/// `price_quote_age_seconds{symbol}`, the age of each symbol's latest tick (-1 without one). The
/// readiness check (`staleQuotes`) uses the same ages.
public struct QuoteGauges: Sendable {
    let store: PriceStore
    let symbols: [String]
    let gauges: [String: Gauge]

    public init(store: PriceStore, symbols: [String]) {
        self.store = store
        self.symbols = symbols
        self.gauges = Dictionary(
            uniqueKeysWithValues: symbols.map { ($0, Gauge(label: "price_quote_age_seconds", dimensions: [("symbol", $0)])) })
    }

    /// Best effort, as the stream gauges.
    public func sample() async {
        guard let quotes = try? await store.quotes(symbols) else { return }
        let now = currentMilliseconds()
        for symbol in symbols {
            let quote = quotes.first { $0.symbol == symbol }
            gauges[symbol]?.record(quote.map { Double($0.age(now: now)) / 1000 } ?? -1)
        }
    }

    /// The symbols whose latest quote is missing or older than `maximumAge`, with the age (ms) or nil.
    public func staleQuotes(maximumAge: Duration) async throws -> [(symbol: String, age: Int64?)] {
        let quotes = try await store.quotes(symbols)
        let now = currentMilliseconds()
        return symbols.compactMap { symbol in
            let age = quotes.first { $0.symbol == symbol }?.age(now: now)
            return age.map { $0 > maximumAge.inMilliseconds } ?? true ? (symbol, age) : nil
        }
    }
}
