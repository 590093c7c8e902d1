#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP port on 127.0.0.1 that nothing listens on right now: the kernel picks it for a socket bound
/// to port 0, and the socket is closed again. Another process may take it in between, so callers that
/// start a server on it retry with a new port when the bind fails. Throws (never traps: that would end
/// every test of the run) when no socket can be bound.
public func freeLoopbackPort() throws -> Int {
    let (socketFD, port) = loopbackSocket(listening: false)
    guard socketFD >= 0 else { throw TestSupportError("could not bind a loopback socket: errno \(errno)") }
    close(socketFD)
    return port
}

/// Runs `body` with the port of a loopback listener that never answers: the kernel completes every
/// connection (the listen backlog) and takes the bytes sent, but nothing ever accepts or replies,
/// like a hung server. For probes and clients that must give up on their own.
nonisolated(nonsending) public func withSilentListener<Result>(_ body: (_ port: Int) async throws -> Result) async throws -> Result {
    let (socketFD, port) = loopbackSocket(listening: true)
    guard socketFD >= 0 else { throw TestSupportError("could not listen on a loopback port") }
    defer { close(socketFD) }
    return try await body(port)
}

/// A TCP socket bound to a port the kernel picks on 127.0.0.1 (and listening, if asked), and that
/// port; the descriptor is -1 on failure.
private func loopbackSocket(listening: Bool) -> (descriptor: Int32, port: Int) {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { return (-1, 0) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(socketFD, generic, length) == 0 && getsockname(socketFD, generic, &length) == 0
                && (!listening || listen(socketFD, 16) == 0)
        }
    }
    guard ready else {
        close(socketFD)
        return (-1, 0)
    }
    return (socketFD, Int(UInt16(bigEndian: address.sin_port)))
}
