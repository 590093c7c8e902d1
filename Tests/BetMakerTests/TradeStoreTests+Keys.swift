@testable import BetMaker

extension RedisKeys {
    /// The key of the trade with this id (`TradeID`), for tests that hold trade ids as text.
    func trade(_ id: String) -> String {
        guard let id = TradeID(id) else { fatalError("\(id) is no trade id") }
        return trade(id)
    }
}
