/// A cluster node's answer that a command's slot is served elsewhere: `MOVED` (for good: the map is
/// out of date) or `ASK` (only for this command, while the slot migrates). The command did not run.
public struct RedisRedirect: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case moved = "MOVED"
        case ask = "ASK"
    }

    public let kind: Kind
    public let slot: Int
    public let endpoint: RedisEndpoint

    public init(kind: Kind, slot: Int, endpoint: RedisEndpoint) {
        self.kind = kind
        self.slot = slot
        self.endpoint = endpoint
    }

    /// Reads `MOVED 3999 127.0.0.1:6381` (code and message split). An empty host (`:6381`, a node that
    /// does not know its own address) means the host of the node that answered.
    init?(_ error: RedisServerError, answeringHost: String) {
        guard let kind = Kind(rawValue: error.code) else { return nil }
        let parts = error.message.split(separator: " ")
        guard parts.count == 2, let slot = Int(parts[0]), (0..<HashSlot.count).contains(slot),
            let colon = parts[1].lastIndex(of: ":"), let port = Int(parts[1][parts[1].index(after: colon)...])
        else { return nil }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(kind: kind, slot: slot, endpoint: RedisEndpoint(host: host.isEmpty ? answeringHost : host, port: port))
    }

    public var description: String { "\(kind.rawValue) \(slot) \(endpoint)" }
}

/// How a cluster connection treats `MOVED` and `ASK`: as `RedisError.redirected`, reported to the
/// client's map (`observe`) before the caller sees the error. Single-node connections have none and
/// keep them as `RedisError.server`.
struct RedirectHandling: Sendable {
    /// The host of the node the connection goes to, for redirects that name none.
    let host: String
    let observe: @Sendable (RedisRedirect) -> Void

    func error(for reply: RedisServerError) -> RedisError {
        guard let redirect = RedisRedirect(reply, answeringHost: host) else { return .server(reply) }
        observe(redirect)
        return .redirected(redirect)
    }
}
