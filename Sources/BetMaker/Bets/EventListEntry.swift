/// One entry of an event's bet list: the bet id, and for a bet with money its user and account, so
/// that settlement knows which wallets to pay from the list alone (a script must be given every key
/// it touches, and the list is what the worker reads anyway). `<bet id>` or `<bet id>:<user>:<account>`.
public struct EventListEntry: Sendable {
    public let betID: String
    public let owner: (userID: Int, accountID: Int)?

    public init(betID: String, owner: (userID: Int, accountID: Int)? = nil) {
        self.betID = betID
        self.owner = owner
    }

    public init?(_ text: some StringProtocol) {
        // Most entries are a bare id (every entry of the index of anonymous bets): no split for them.
        guard text.utf8.contains(UInt8(ascii: ":")) else {
            self.init(betID: String(text))
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            self.init(betID: String(parts[0]))
        case 3:
            guard let userID = Int(parts[1]), let accountID = Int(parts[2]), userID > 0, accountID > 0 else { return nil }
            self.init(betID: String(parts[0]), owner: (userID, accountID))
        default:
            return nil
        }
    }
}
