import RedisClient

/// The email service provider (ESP), as bet-maker needs it: whether it holds a contact, and creating
/// and erasing one. The Mailchimp-shaped adapter and the simulated ESP are in
/// `Sources/Adapters/EmailServiceProvider`. Every call has a deadline; creating and erasing are
/// idempotent, so the outbox may repeat them.
public protocol EmailServiceProvider: Sendable {
    /// True when the ESP holds the contact, false when it answered that it does not. Throws
    /// `EmailServiceError` when it gave no answer within `timeout` or answered something else.
    func hasContact(_ address: EmailAddress, timeout: Duration) async throws -> Bool
    /// Adds the contact if it is missing (an existing one is left as it is).
    func createContact(_ address: EmailAddress) async throws
    /// Erases the contact for good; a contact the ESP does not hold counts as erased. Only the
    /// subscriber hash is needed, so the outbox keeps no address for an erasure.
    func eraseContact(subscriberHash: String) async throws
}

/// Why a call to the ESP failed, and whether trying again later may help.
public enum EmailServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the deadline (or the connection failed): the call may or may not have
    /// taken effect. Retried.
    case timeout
    /// 5xx, or 429 with the delay its `Retry-After` asks for. Retried.
    case unavailable(status: Int, retryAfter: Duration?)
    /// Another answer (400 for an address the ESP refuses, 401 for a wrong key): retrying the same
    /// call cannot help.
    case refused(status: Int, detail: String)

    public var isRetryable: Bool {
        if case .refused = self { return false }
        return true
    }

    /// The metrics label.
    public var kind: String {
        switch self {
        case .timeout: "timeout"
        case .unavailable(let status, _): status == 429 ? "rate_limited" : "unavailable"
        case .refused: "refused"
        }
    }

    public var description: String {
        switch self {
        case .timeout: "no answer in time"
        case .unavailable(let status, let retryAfter):
            "HTTP \(status)" + (retryAfter.map { ", Retry-After \($0.inMilliseconds / 1000) s" } ?? "")
        case .refused(let status, let detail): "HTTP \(status): \(detail)"
        }
    }
}
