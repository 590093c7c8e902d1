/// The recorded outcome of an event, from the first team's side: WIN settles its bets as won; LOSE
/// (a loss or a draw) settles them as lost; VOID (the event was cancelled or abandoned, by an
/// administrator's void, never by a report) settles them as void and refunds every stake.
public enum EventResult: String, Sendable, CaseIterable {
    case win = "WIN"
    case lose = "LOSE"
    case void = "VOID"

    public var settledStatus: BetStatus {
        switch self {
        case .win: .won
        case .lose: .lost
        case .void: .void
        }
    }

    /// What `PUT /events/{id}` may report: a void is a transition of its own (`POST /events/{id}/void`).
    public static let reportable: [EventResult] = [.win, .lose]
}
