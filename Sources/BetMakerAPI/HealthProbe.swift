import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 GET for the `healthcheck` command, so container images need no curl.
public enum HealthProbe {
    /// The status code of `GET path`, or throws when nothing answers within `timeout`.
    public static func status(host: String, port: Int, path: String, timeout: Duration = .seconds(3)) async throws -> Int {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.init(timeout))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
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
            throw HealthProbeError.noStatusLine
        }
    }

    enum HealthProbeError: Error { case noStatusLine }
}
