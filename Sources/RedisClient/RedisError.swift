/// Every failure the client reports. The cases tell apart what the caller can do about it: a server
/// reply is final; a command that was never sent changed nothing and may simply be retried; a command
/// that was sent but not answered (`mayHaveRun`) may have been carried out, so only an idempotent
/// retry is safe.
public enum RedisError: Error, Sendable, Hashable {
    /// Redis answered with an error reply (`NOSCRIPT`, `WRONGTYPE`, `OOM`, a script's own error, ...).
    case server(RedisServerError)
    /// The command was not sent: Redis is unreachable and the client is backing off, it shut down, or
    /// the connection it was given had already closed or begun closing. Nothing was changed.
    case connectionUnavailable(String)
    /// The connection closed after the command was written and before its reply: it may or may not
    /// have run.
    case connectionClosed(String)
    /// No reply arrived before the command's deadline; the connection was closed and will be replaced.
    /// The command may or may not have run.
    case timeout(command: String, milliseconds: Int64)
    /// The bytes from the server were not valid RESP; the connection was closed and will be replaced.
    /// The commands waiting on it may or may not have run.
    case protocolError(String)
    /// The reply had a shape the typed command did not expect.
    case unexpectedReply(command: String, reply: String)
    /// The command could not be formatted (hiredis refused it, e.g. past its size limits); it was not sent.
    case invalidCommand(String)
    /// Cluster mode: the node answered `MOVED` or `ASK` (the command did not run), and the client did
    /// not follow it: it came on a connection the caller holds (`connection(forKey:)`), or the command
    /// had been redirected too often. The client's map already knows of a `MOVED`.
    case redirected(RedisRedirect)
    /// Cluster mode: the command's keys hash to different slots, so no node can run it. It was not sent.
    case crossSlot(command: String, keys: [String])

    /// The server error code, when Redis answered with an error reply.
    public var serverCode: String? {
        if case .server(let error) = self { return error.code }
        return nil
    }

    /// True when the failure is about reaching Redis rather than about the command itself.
    public var isConnectivity: Bool {
        switch self {
        case .connectionUnavailable, .connectionClosed, .timeout, .protocolError, .redirected: true
        // The node or the cluster cannot serve the command now (BUSY, a long script, is about the command).
        case .server(let error): ["LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"].contains(error.code)
        case .unexpectedReply, .invalidCommand, .crossSlot: false
        }
    }

    /// True when the command was sent but its outcome is unknown: Redis may have carried it out (a
    /// script may have debited a balance) although no reply says so. A caller must not report "nothing
    /// changed" then; only a retry that Redis deduplicates (an idempotency key) is safe. False for
    /// commands never sent and for commands Redis answered, successfully or not.
    public var mayHaveRun: Bool {
        switch self {
        case .connectionClosed, .timeout, .protocolError: true
        case .server, .connectionUnavailable, .unexpectedReply, .invalidCommand, .redirected, .crossSlot: false
        }
    }

    /// Error replies that say the command did not run because of the server's or the cluster's state,
    /// so running it again later is safe: a slot being migrated (`TRYAGAIN`), the cluster without a
    /// master for some slot (`CLUSTERDOWN`), a replica cut off from its master (`MASTERDOWN`), a node
    /// still loading its data (`LOADING`), a script running too long (`BUSY`).
    static let notRunCodes: Set<String> = ["TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "LOADING", "BUSY"]
}

extension RedisError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .server(let error): "Redis error: \(error)"
        case .connectionUnavailable(let reason): "Redis unavailable: \(reason)"
        case .connectionClosed(let reason): "Redis connection closed: \(reason)"
        case .timeout(let command, let milliseconds): "Redis command \(command) timed out after \(milliseconds) ms"
        case .protocolError(let reason): "Redis protocol error: \(reason)"
        case .unexpectedReply(let command, let reply): "Unexpected reply to \(command): \(reply)"
        case .invalidCommand(let reason): "Invalid Redis command: \(reason)"
        case .redirected(let redirect): "Redis cluster redirect not followed: \(redirect)"
        case .crossSlot(let command, let keys):
            "Redis cluster: the keys of \(command) are in different slots, so it was not sent: "
                + keys.map { "\($0) (slot \(HashSlot.of($0)))" }.joined(separator: ", ")
        }
    }
}
