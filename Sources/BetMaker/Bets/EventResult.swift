/// The reported outcome of an event, from the first team's side: WIN settles its bets as won; LOSE
/// (a loss or a draw) settles them as lost.
public enum EventResult: String, Sendable, CaseIterable {
    case win = "WIN"
    case lose = "LOSE"

    public var settledStatus: BetStatus { self == .win ? .won : .lost }
}
