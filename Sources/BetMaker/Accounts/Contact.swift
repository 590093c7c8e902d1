/// An email contact as stored: the address, how often it was played, the user a token linked it to,
/// what bet-maker knows of it at the ESP, and the state of its creation there.
public struct Contact: Sendable, Equatable {
    public enum SyncState: String, Sendable {
        /// The create waits in the outbox (or its retry set).
        case pending
        /// The ESP holds the contact: it had it already, or the worker created it.
        case synced
        /// The worker gave up (`ESP_MAX_ATTEMPTS`, or an answer no retry can change); see `lastError`
        /// and the outbox's dead letters.
        case failed
    }

    public let email: String
    public let plays: Int
    public let userID: Int?
    /// True or false as the ESP answered (or true once the worker created it); nil when unknown.
    public let inESP: Bool?
    public let createdAt: Int64
    public let lastPlayedAt: Int64
    public let sync: SyncState
    /// ESP calls tried for its create so far.
    public let attempts: Int
    public let lastError: String?
    public let syncedAt: Int64?

    static let storedFields = [
        "email", "plays", "user_id", "in_esp", "created_at", "last_played_at", "sync", "attempts", "last_error", "synced_at",
    ]

    init?(fields: [String?]) {
        guard fields.count == Self.storedFields.count, let email = fields[0], let plays = fields[1].flatMap({ Int($0) }) else {
            return nil
        }
        self.email = email
        self.plays = plays
        userID = fields[2].flatMap { Int($0) }
        inESP = Self.inESP(fields[3] ?? "")
        createdAt = fields[4].flatMap { Int64($0) } ?? 0
        lastPlayedAt = fields[5].flatMap { Int64($0) } ?? createdAt
        sync = fields[6].flatMap(SyncState.init(rawValue:)) ?? .pending
        attempts = fields[7].flatMap { Int($0) } ?? 0
        lastError = fields[8]
        syncedAt = fields[9].flatMap { Int64($0) }
    }

    /// `in_esp` as stored: '1', '0', or '' for unknown.
    static func inESP(_ stored: String) -> Bool? {
        switch stored {
        case "1": true
        case "0": false
        default: nil
        }
    }
}
