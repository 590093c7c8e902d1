import BetMaker
import HTTPTypes

/// The problems of the limits on what abuse costs (docs/decisions/0281, 0282, 0283, 0286): each says
/// which limit was hit and, in `Retry-After`, when the same request will be taken again.
extension Problem {
    /// Whole seconds, rounded up, so a client that waits that long finds the limit gone.
    static func retryAfterSeconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(max(1, seconds + (attoseconds > 0 ? 1 : 0)))
    }

    private static func limited(
        _ status: HTTPResponse.Status, _ slug: String, title: String, detail: String, retryAfter: Duration
    )
        -> Problem
    {
        var problem = Problem(status, slug, title: title, detail: detail)
        problem.headers[.retryAfter] = retryAfterSeconds(retryAfter)
        return problem
    }

    /// The client address's token bucket for this kind of request is empty.
    static func rateLimited(_ bucket: RateLimits.Bucket, retryAfter: Duration) -> Problem {
        let what =
            switch bucket {
            case .passwords: "requests that check or set a password (logging in, registering)"
            case .plays: "plays"
            }
        return limited(
            .tooManyRequests, "rate-limited", title: "Too many requests",
            detail:
                "This address has sent too many \(what) in a short time; nothing was done. Retry after \(retryAfterSeconds(retryAfter)) s.",
            retryAfter: retryAfter)
    }

    /// This client is locked out of the login after too many failed attempts.
    static func tooManyLoginAttempts(retryAfter: Duration) -> Problem {
        limited(
            .tooManyRequests, "too-many-login-attempts", title: "Too many failed logins",
            detail: "This login is locked for your address after too many failed attempts; the password was not checked. "
                + "Try again after \(retryAfterSeconds(retryAfter)) s.",
            retryAfter: retryAfter)
    }

    /// The login has had its hourly share of failures from all clients together.
    static func loginThrottled(retryAfter: Duration) -> Problem {
        limited(
            .tooManyRequests, "login-throttled", title: "Too many failed logins for this login",
            detail: "This login has had too many failed attempts from many addresses; the password was not checked. "
                + "Try again after \(retryAfterSeconds(retryAfter)) s.",
            retryAfter: retryAfter)
    }

    /// Every password-hashing slot is busy and the queue is full.
    static func passwordHashingBusy(retryAfter: Duration) -> Problem {
        limited(
            .serviceUnavailable, "password-hashing-busy", title: "Too busy checking passwords",
            detail: "The server is checking as many passwords as it can at once; nothing was done. "
                + "Retry after \(retryAfterSeconds(retryAfter)) s.",
            retryAfter: retryAfter)
    }

    /// The user has as many live-update streams open as they may.
    static func tooManyLiveStreams(limit: Int) -> Problem {
        limited(
            .tooManyRequests, "too-many-live-streams", title: "Too many live-update streams",
            detail: "You have \(limit) live-update streams open already (tabs or windows of the web UI); close one and retry.",
            retryAfter: .seconds(5))
    }
}
