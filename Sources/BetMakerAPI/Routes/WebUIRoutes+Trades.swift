import BetMaker
import BetMakerRuntime
import Hummingbird
import RedisClient

/// The trade screen.
extension WebUIRoutes {
    /// How many recent ticks of each symbol the page starts its chart with (two minutes of the
    /// simulated feed's one a second); live ticks extend it.
    static let chartTicks = 120

    /// The trade screen: each symbol's latest price and recent ticks, the order form, the caller's trades
    /// (newest first).
    @Sendable func tradesPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let cursor = Self.cursor(request, isValid: NewestFirstPages.isValidCursor)
        let quotes = try await trades.prices.quotes(symbols)
        let page = try await trades.list(userID: identity.userID, status: nil, limit: Self.pageSize, cursor: cursor)
        var symbolValues: [[String: String]] = []
        for symbol in symbols {
            symbolValues.append([
                "symbol": symbol, "price": quotes.first { $0.symbol == symbol }?.tick.price.description ?? "–",
                "points": try await recentTicks(symbol),
            ])
        }
        var values: [String: Any] = [
            "quotes": symbolValues,
            "firstSymbol": symbols.first ?? "",
            "trades": page.trades.map(Self.fields),
            "maximumLeverage": String(maximumLeverage), "minimumDuration": String(durations.lowerBound),
            "maximumDuration": String(durations.upperBound),
        ]
        if let shown = try await balance(identity) { values["balance"] = shown }
        if let next = page.nextCursor { values["next"] = "/ui/trades?cursor=\(next)" }
        return try Self.page("trades", title: "Trades", identity: context.identity, values, live: "trades")
    }

    /// The symbol's latest ticks, oldest first, as `<ms>:<price>` separated by spaces (the chart's
    /// `data-points`).
    func recentTicks(_ symbol: String) async throws -> String {
        let entries = try await trades.redis.xrevrange(trades.keys.ticks(symbol), count: Self.chartTicks)
        return entries.reversed().compactMap { entry -> String? in
            guard let units = entry.fields?["price"].flatMap({ Int64($0) }), units > 0 else { return nil }
            return "\(Tick(id: entry.id, price: Price(units: units)).time):\(Price(units: units))"
        }.joined(separator: " ")
    }

    static func fields(_ trade: Trade) -> [String: Any] {
        var fields: [String: Any] = [
            "id": trade.id, "symbol": trade.symbol, "direction": trade.direction.rawValue, "stake": trade.stake.description,
            "leverage": String(trade.leverage), "startPrice": trade.start?.price.description ?? "",
            "liquidationPrice": trade.liquidationPrice?.description ?? "",
            "stopOut": trade.start == nil ? "" : trade.liquidationPrice?.description ?? "none",
            // Open: the script counts down to it; closed: the time it expired.
            "expiresAt": trade.status == .open ? trade.expiresAt.map { String($0) } ?? "" : "",
            "status": trade.status.rawValue, "endPrice": trade.end?.price.description ?? "", "profit": trade.profit?.description ?? "",
            "payout": trade.payout?.description ?? "", "pending": trade.status == .pending,
        ]
        if let expiresAt = trade.expiresAt { fields["expires"] = time(expiresAt, .absolute) }
        return fields
    }
}
