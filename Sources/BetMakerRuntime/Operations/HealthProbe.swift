import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 GET for the `healthcheck` command, so container images need no curl.
public enum HealthProbe {
    /// The status code of `GET path`.
    ///
    /// `timeout` bounds the whole probe, connecting and reading: a server that accepts the connection
    /// and never answers (hung, or its event loop blocked) must fail the health check, not hang it.
    ///
    /// - Throws: `HealthProbeError.timedOut` when no status line arrives within `timeout`,
    ///   `HealthProbeError.noStatusLine` when the server closes without one, or the connection error.
    public static func status(host: String, port: Int, path: String, timeout: Duration = .seconds(3)) async throws -> Int {
        let started = NIODeadline.now()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.init(timeout))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // Closing the channel at the deadline ends the read loop below, whatever it is waiting for.
        let end = started + .init(timeout)
        let closer = channel.channel.eventLoop.scheduleTask(deadline: end) { [channel = channel.channel] in
            channel.close(promise: nil)
        }
        defer { closer.cancel() }
        let timedOut = { NIODeadline.now() >= end }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"))
                var response = ByteBuffer()
                for try await chunk in inbound {
                    response.writeImmutableBuffer(chunk)
                    if let line = response.getString(at: response.readerIndex, length: min(response.readableBytes, 32)),
                        line.hasPrefix("HTTP/1.1 "), line.count >= 12, let code = Int(line.dropFirst(9).prefix(3))
                    {
                        return code
                    }
                }
                throw timedOut() ? HealthProbeError.timedOut(timeout) : HealthProbeError.noStatusLine
            }
        } catch let error where !(error is HealthProbeError) && timedOut() {
            throw HealthProbeError.timedOut(timeout)
        }
    }

    public enum HealthProbeError: Error, Equatable, CustomStringConvertible {
        case noStatusLine
        case timedOut(Duration)

        public var description: String {
            switch self {
            case .noStatusLine: "the server closed the connection without an HTTP status line"
            case .timedOut(let timeout): "no HTTP status line within \(timeout)"
            }
        }
    }
}
