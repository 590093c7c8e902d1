/// One entry of an event's bet list: the bet's serial (`BetID.serial`; the event is the list's), and
/// for a bet with money its user and account, so that settlement knows which wallets to pay from the
/// list alone (a script must be given every key it touches, and the list is what the worker reads
/// anyway). `<serial>` or `<serial>:<user>:<account>`.
public struct EventListEntry: Sendable {
    public let serial: String
    public let owner: (userID: Int, accountID: Int)?

    public init(serial: String, owner: (userID: Int, accountID: Int)? = nil) {
        self.serial = serial
        self.owner = owner
    }

    public init?(_ text: some StringProtocol) {
        // An anonymous bet's entry is a bare serial: no split for it.
        guard text.utf8.contains(UInt8(ascii: ":")) else {
            self.init(serial: String(text))
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            self.init(serial: String(parts[0]))
        case 3:
            guard let userID = Int(parts[1]), let accountID = Int(parts[2]), userID > 0, accountID > 0 else { return nil }
            self.init(serial: String(parts[0]), owner: (userID, accountID))
        default:
            return nil
        }
    }
}
