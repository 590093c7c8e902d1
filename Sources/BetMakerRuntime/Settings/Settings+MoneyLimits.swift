import BetMaker

extension Settings {
    /// Refuses a money limit whose amounts the Lua scripts could not compute exactly (`Money.largestExact`,
    /// 2^53 − 1 cents): a limit accepts 16 digits of whole units, a Lua number is whole only up to 16.
    /// Each limit bounds what the scripts compute from it:
    /// - `MAX_BET_AMOUNT`: `place_wallet_bet` multiplies the stake by the odds in hundredths (at most
    ///   `Odds.maximum`) to lock in the payout;
    /// - `MAX_TRADE_AMOUNT`: `close_trades` adds a trade's profit (at most `TradeMath.maximumProfit`) to its stake;
    /// - `MAX_DEPOSIT_AMOUNT`: `deposit` adds it to a balance (and refuses a balance beyond, at run time).
    func checkMoneyLimits() throws(SettingsError) {
        let exact = Money.largestExact.cents
        let limits: [(name: String, value: Money, largest: Int64, because: String)] = [
            (
                "MAX_BET_AMOUNT", maximumStake, exact / Odds.maximum.hundredths,
                "a bet's stake times its odds (up to \(Odds.maximum)) must stay within 2^53 - 1 cents"
            ),
            (
                "MAX_TRADE_AMOUNT", maximumTradeStake, exact - TradeMath.maximumProfit.cents,
                "a trade's stake plus its largest profit (\(TradeMath.maximumProfit)) must stay within 2^53 - 1 cents"
            ),
            ("MAX_DEPOSIT_AMOUNT", maximumDeposit, exact, "a deposit must stay within 2^53 - 1 cents"),
        ]
        for limit in limits where limit.value.cents > limit.largest {
            throw SettingsError(
                "\(limit.name) is \(limit.value), more than \(Money(cents: limit.largest)), the most the scripts compute with exactly: "
                    + "\(limit.because) (Lua's numbers are doubles). Set \(limit.name) to at most \(Money(cents: limit.largest)).")
        }
    }
}
