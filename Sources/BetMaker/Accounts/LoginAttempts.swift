import RedisClient

/// How many times a login may be tried (docs/decisions/0282): each client address gets `maxFailures`
/// attempts per `lockout` window before it is locked out of this login (a success starts its count
/// again), and the login takes at most `failuresPerHour` failures from all clients together (a bucket
/// that refills evenly over the hour). An attacker therefore locks out only their own address, and
/// one spread over many addresses is slowed to the hourly rate rather than locking the login for all.
public struct LoginAttempts: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxFailures: Int
        public var lockout: Duration
        public var failuresPerHour: Int

        public init(maxFailures: Int, lockout: Duration, failuresPerHour: Int) {
            self.maxFailures = maxFailures
            self.lockout = lockout
            self.failuresPerHour = failuresPerHour
        }

        var interval: Double { 3_600_000 / Double(failuresPerHour) }
    }

    public enum Admission: Sendable, Equatable {
        /// Check the password; then call `succeeded` or, if it was never checked, `unchecked`.
        case allowed
        /// This client is locked out of the login for `retryAfter`.
        case locked(retryAfter: Duration)
        /// The login has had its failures' worth from all clients; one may go after `retryAfter`.
        case throttled(retryAfter: Duration)
    }

    let redis: RedisClient
    let keys: RedisKeys
    public let limits: Limits

    public init(redis: RedisClient, keys: RedisKeys, limits: Limits) {
        self.redis = redis
        self.keys = keys
        self.limits = limits
    }

    private func scriptKeys(_ login: String, client: String) -> [String] {
        let login = Login.normalized(login)
        return [keys.loginAttempts(login, client: client), keys.loginFailures(login)]
    }

    /// Counts an attempt at `login` from `client`, before its password is checked.
    public func begin(_ login: String, client: String) async throws -> Admission {
        let reply = try await redis.eval(
            Scripts.beginLoginAttempt, keys: scriptKeys(login, client: client),
            arguments: [
                String(limits.maxFailures), String(limits.lockout.inMilliseconds), String(limits.interval),
                String(limits.interval * Double(limits.failuresPerHour - 1)),
            ]
        ).array(for: "begin_login_attempt")
        guard reply.count == 2 else { throw RedisError.unexpectedReply(command: "begin_login_attempt", reply: "\(reply)") }
        let milliseconds = try reply[1].int(for: "begin_login_attempt")
        switch try reply[0].string(for: "begin_login_attempt") {
        case "ok": return .allowed
        case "locked": return .locked(retryAfter: .milliseconds(max(1, milliseconds)))
        case "throttled": return .throttled(retryAfter: .milliseconds(max(1, milliseconds)))
        default: throw RedisError.unexpectedReply(command: "begin_login_attempt", reply: "\(reply)")
        }
    }

    /// The right password: the client's count starts again and the login's bucket gets its token back.
    public func succeeded(_ login: String, client: String) async throws {
        try await end(login, client: client, "succeeded")
    }

    /// The password was never checked: the attempt is taken back.
    public func unchecked(_ login: String, client: String) async throws {
        try await end(login, client: client, "unchecked")
    }

    private func end(_ login: String, client: String, _ outcome: String) async throws {
        _ = try await redis.eval(
            Scripts.endLoginAttempt, keys: scriptKeys(login, client: client), arguments: [outcome, String(limits.interval)])
    }
}
