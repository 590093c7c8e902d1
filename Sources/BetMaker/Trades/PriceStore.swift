import RedisClient

/// The prices in Redis: the worker records ticks, everybody reads quotes.
public struct PriceStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// Ticks kept per symbol beyond those not yet processed.
    public var tickCap = 100_000

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// A symbol: 1 to 10 characters `A-Z 0-9`, as CoinMarketCap's tickers are (`BTC`, `ETH`).
    public static func isValidSymbol(_ symbol: some StringProtocol) -> Bool {
        (1...10).contains(symbol.utf8.count)
            && symbol.utf8.allSatisfy {
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            }
    }

    // MARK: Prices

    /// Records a tick of `symbol` (the worker's one path for every feed, and the tests'): the tick
    /// stream and the latest quote in one step. Returns the tick.
    @discardableResult
    public func record(symbol: String, price: Price, source: String) async throws -> Tick {
        let id = try await redis.eval(
            Scripts.recordTick, keys: [keys.quote(symbol), keys.ticks(symbol), keys.tickCursor(symbol)],
            arguments: [String(price.units), source, String(tickCap)]
        ).string(for: "record_tick")
        return Tick(id: id, price: price)
    }

    /// The latest quote of each symbol that has one, in the order asked.
    public func quotes(_ symbols: [String]) async throws -> [Quote] {
        let replies = try await redis.pipeline(symbols.map { RedisCommand("HMGET", keys.quote($0), "price", "tick", "source") })
        var quotes: [Quote] = []
        for (symbol, reply) in zip(symbols, replies) {
            let fields = try reply.get().optionalStrings(for: "HMGET")
            guard fields.count == 3, let units = fields[0].flatMap({ Int64($0) }), let tick = fields[1] else { continue }
            quotes.append(Quote(symbol: symbol, tick: Tick(id: tick, price: Price(units: units)), source: fields[2] ?? ""))
        }
        return quotes
    }

    public func quote(_ symbol: String) async throws -> Quote? {
        try await quotes([symbol]).first
    }
}
