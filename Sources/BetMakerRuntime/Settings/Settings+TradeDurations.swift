import RedisClient

/// The trades' durations, which follow the price feed: a trade must span at least two ticks.
extension Settings {
    /// How often the worker records a tick: CoinMarketCap's refresh, the simulated feed's interval; nil
    /// when ticks come from elsewhere (`PRICE_FEED=none`).
    public var priceFeedInterval: Duration? {
        switch priceFeed {
        case .coinmarketcap: cmcRefresh
        case .simulated: simulatedFeedInterval
        case .none: nil
        }
    }

    /// The shortest trade duration two feed intervals allow, in whole seconds.
    var shortestFairDuration: Int {
        guard let interval = priceFeedInterval else { return 1 }
        return Int((2 * interval.inMilliseconds + 999) / 1000)
    }

    /// `tradeDurations` from `TRADE_MIN_SECONDS` (nil: unset) and `TRADE_MAX_SECONDS`, once the feed is known.
    mutating func setTradeDurations(shortest chosen: Int?, longest: Int) throws(SettingsError) {
        // Unset, the shortest duration is 10 s or two feed intervals, whichever is longer.
        let shortest = chosen ?? max(tradeDurations.lowerBound, shortestFairDuration)
        guard shortest >= shortestFairDuration else {
            throw SettingsError(
                "TRADE_MIN_SECONDS (\(shortest)) must be at least two price feed intervals (\(shortestFairDuration) s): "
                    + "a shorter trade could open and close on prices a player knows in advance")
        }
        guard shortest <= longest else {
            throw SettingsError("TRADE_MIN_SECONDS (\(shortest)) must not be more than TRADE_MAX_SECONDS (\(longest))")
        }
        tradeDurations = shortest...longest
    }
}
