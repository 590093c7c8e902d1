/// A bet's id as the API shows it: its event and a serial number from `IDGenerator`, `<event>~<serial>`
/// (`nba:2026-11-22:LAL-BOS~0K3M4T7QH2XA`). The event is part of the id because the bet's hash lives
/// under the event's hash tag (`RedisKeys.bet`): on Redis Cluster an event's bets share its slot, and
/// `GET /bets/{id}` finds the key from the id alone, in one read. `~` is outside the event alphabet
/// (`EventID`), so the split is unambiguous, and it needs no escaping in a URL.
public struct BetID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let eventID: String
    /// The part the event's list holds (`EventListEntry`): unique among the event's bets.
    public let serial: String

    public init(eventID: String, serial: String) {
        self.eventID = eventID
        self.serial = serial
    }

    /// Nil when `text` is not `<valid event id>~<12 id characters>`.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard let separator = text.utf8.lastIndex(of: Self.separator) else { return nil }
        let event = text[..<separator]
        let serial = text[text.utf8.index(after: separator)...]
        guard EventID.isValid(event), IDGenerator.isWellFormed(serial) else { return nil }
        self.init(eventID: String(event), serial: String(serial))
    }

    public var description: String { eventID + "~" + serial }

    public static func < (left: BetID, right: BetID) -> Bool {
        (left.eventID, left.serial) < (right.eventID, right.serial)
    }

    static let separator = UInt8(ascii: "~")

    /// The longest id: the longest event id, `~` and a serial.
    public static let maximumLength = EventID.maximumLength + 1 + IDGenerator.length
}
