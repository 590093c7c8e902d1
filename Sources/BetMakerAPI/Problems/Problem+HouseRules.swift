import BetMaker
import BetMakerRuntime
import HTTPTypes

/// The problems of the bookmaker's rules on bets and trades with money (decisions 0271, 0272) and of the
/// Idempotency-Key (decision 0276), shared by the routes that place bets and trades.
extension Problem {
    /// 403 `staff-may-not-bet`: traders and administrators do not bet or trade with money.
    static func staffMayNotBet(_ role: Role, _ what: String) -> Problem {
        var problem = Problem(
            .forbidden, "staff-may-not-bet", title: "Staff do not bet",
            detail: "Your role is \(role.rawValue): traders and administrators may not place \(what) with money. Nothing was debited.")
        problem.extensions = [("role", role.rawValue)]
        return problem
    }

    /// 409 `betting-closed`: the catalogue event started (betting closes at kick-off) or a trader took
    /// it to report its result. Names the start time (`starts_at`) and the reason (`closed_reason`).
    static func bettingClosed(_ eventID: String, _ reason: CatalogueEvent.ClosedReason, startsAt: Int64) -> Problem {
        let start = Timestamp.rfc3339(startsAt)
        let why =
            reason == .taken
            ? "a trader took it to report its result (it starts at \(start))" : "it started at \(start) (betting closes at kick-off)"
        var problem = Problem(
            .conflict, "betting-closed", title: "Betting on the event is closed",
            detail: "Event \(eventID) takes no more bets: \(why). Nothing was debited.")
        problem.extensions = [("starts_at", start), ("closed_reason", reason.rawValue)]
        return problem
    }

    /// 422 `idempotency-key-reused`: the key was used for a request with another payload (the IETF
    /// Idempotency-Key draft's answer). The key stays bound to its first request for `ttl`.
    static func idempotencyKeyReused(_ what: String) -> Problem {
        Problem(
            .unprocessableContent, "idempotency-key-reused", title: "The Idempotency-Key was used for another request",
            detail: "This Idempotency-Key was already used for a different \(what) within the last 24 hours; use a new key for a new "
                + "\(what), or send the first request's body again to get its answer.")
    }
}
