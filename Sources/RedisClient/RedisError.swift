/// Every failure the client reports. The cases tell apart what the caller can do about it:
/// a server reply is final; a connection failure or a timeout may succeed on another try.
public enum RedisError: Error, Sendable, Hashable {
    /// Redis answered with an error reply (`NOSCRIPT`, `WRONGTYPE`, `OOM`, a script's own error, ...).
    case server(RedisServerError)
    /// No connection is available: Redis is unreachable and the client is backing off, or it shut down.
    case connectionUnavailable(String)
    /// The connection closed while the command was waiting for its reply; it may or may not have run.
    case connectionClosed(String)
    /// No reply arrived before the command's deadline; the connection was closed and will be replaced.
    case timeout(command: String, milliseconds: Int64)
    /// The bytes from the server were not valid RESP; the connection was closed and will be replaced.
    case protocolError(String)
    /// The reply had a shape the typed command did not expect.
    case unexpectedReply(command: String, reply: String)

    /// The server error code, when Redis answered with an error reply.
    public var serverCode: String? {
        if case .server(let error) = self { return error.code }
        return nil
    }

    /// True when the failure is about reaching Redis rather than about the command itself.
    public var isConnectivity: Bool {
        switch self {
        case .connectionUnavailable, .connectionClosed, .timeout, .protocolError: true
        case .server(let error): error.code == "LOADING" || error.code == "MASTERDOWN"
        case .unexpectedReply: false
        }
    }
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
        }
    }
}
