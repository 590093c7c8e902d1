/// A trade's id as the API shows it: its symbol and a serial number from `IDGenerator`,
/// `<symbol>~<serial>` (`BTC~0K3M4T7QH2XA`). The symbol is part of the id because the trade's hash lives
/// under the symbol's hash tag (`RedisKeys.trade`): on Redis Cluster a symbol's trades share its slot
/// with its prices and sets, and `GET /trades/{id}` finds the key from the id alone, in one read. `~`
/// is outside the symbol alphabet (`PriceStore.isValidSymbol`), and needs no escaping in a URL.
public struct TradeID: Sendable, Hashable, CustomStringConvertible {
    public let symbol: String
    /// Unique among all trades (`IDGenerator`).
    public let serial: String

    public init(symbol: String, serial: String) {
        self.symbol = symbol
        self.serial = serial
    }

    /// Nil when `text` is not `<valid symbol>~<12 id characters>`.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard let separator = text.utf8.firstIndex(of: UInt8(ascii: "~")) else { return nil }
        let symbol = text[..<separator]
        let serial = text[text.utf8.index(after: separator)...]
        guard PriceStore.isValidSymbol(symbol), IDGenerator.isWellFormed(serial) else { return nil }
        self.init(symbol: String(symbol), serial: String(serial))
    }

    public var description: String { symbol + "~" + serial }
}
