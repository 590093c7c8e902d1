/// A client's `Idempotency-Key` for a request that creates something (a bet, a trade): the placing
/// script saves the new record's id under the key's digest (`RedisKeys.idempotency`), answers a retry
/// with that id, and refuses the key for a different request.
public struct IdempotencyKey: Sendable {
    /// The client's key, scoped by the caller (who sent it, and what kind of request).
    public let key: String
    /// What the request asked for, canonically; a retry must ask for the same.
    public let fingerprint: String

    public init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }
}
