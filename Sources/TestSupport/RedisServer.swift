import Foundation
import RedisClient
import Synchronization

/// A real `redis-server` for one test: its own free loopback port, its own temporary directory,
/// stopped and removed again by `withRedisServer`. Tests never use a Redis someone started by hand.
public final class RedisServer: Sendable {
    public let port: Int
    public let directory: String
    private let extraArguments: [String]
    private let child: Mutex<ChildProcess?>

    private init(port: Int, directory: String, extraArguments: [String]) {
        self.port = port
        self.directory = directory
        self.extraArguments = extraArguments
        self.child = Mutex(nil)
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// How long tests' clients and processes wait for a connection to come up.
    public static let testConnectTimeout: Duration = .seconds(10)

    public var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        // The whole suite runs in parallel on as few as two cores, starting dozens of servers and
        // processes: a connection may take longer than production's 2 s default to come up there.
        configuration.connectTimeout = Self.testConnectTimeout
        return configuration
    }

    /// Starts a server. `appendOnly` turns on AOF with `appendfsync always`, for restart tests.
    public static func start(appendOnly: Bool = false, extraArguments: [String] = []) async throws -> RedisServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("betmaker-redis-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var arguments = extraArguments
        if appendOnly { arguments += ["--appendonly", "yes", "--appendfsync", "always"] }
        for _ in 0..<5 {
            let server = RedisServer(port: try freeLoopbackPort(), directory: directory, extraArguments: arguments)
            if try await server.launch() { return server }
        }
        throw TestSupportError("redis-server did not start after 5 attempts")
    }

    /// Starts the process on the same port and directory, so an AOF written before is replayed.
    @discardableResult
    public func launch() async throws -> Bool {
        let executable = try findExecutable("redis-server")
        let process = try ChildProcess(
            name: "redis-server:\(port)", executable: executable,
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--save", "",
                "--logfile", "", "--daemonize", "no", "--protected-mode", "no",
            ] + extraArguments)
        child.withLock { $0 = process }
        if await process.waitForOutput(containing: "Ready to accept connections") { return true }
        await process.stop(signal: SIGKILL)
        if process.output.contains("Address already in use") { return false }
        throw TestSupportError("redis-server failed to start:\n\(process.output)")
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    public func kill() async {
        await child.withLock { $0 }?.kill9()
    }

    /// Stops the server cleanly (SIGTERM).
    public func stop() async {
        await child.withLock { $0 }?.stop()
    }

    /// Sends a signal to the server: SIGSTOP freezes it (a hung server), SIGCONT thaws it.
    public func signal(_ signal: Int32) {
        if let pid = child.withLock({ $0?.pid }) { Foundation.kill(pid, signal) }
    }

    public var isRunning: Bool { child.withLock { $0?.isRunning ?? false } }

    public func removeFiles() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh Redis server, and stops and removes it afterwards, also on failure.
nonisolated(nonsending) public func withRedisServer<Result>(
    appendOnly: Bool = false, extraArguments: [String] = [], _ body: (RedisServer) async throws -> Result
) async throws -> Result {
    let server = try await RedisServer.start(appendOnly: appendOnly, extraArguments: extraArguments)
    do {
        let result = try await body(server)
        await server.kill()
        server.removeFiles()
        return result
    } catch {
        await server.kill()
        server.removeFiles()
        throw error
    }
}

/// A fresh Redis server and a running client connected to it.
nonisolated(nonsending) public func withRedis<Result>(
    poolSize: Int = 2, configure: (inout RedisConfiguration) -> Void = { _ in },
    _ body: (RedisServer, RedisClient) async throws -> Result
) async throws -> Result {
    try await withRedisServer { server in
        var configuration = server.configuration
        configuration.poolSize = poolSize
        configure(&configuration)
        return try await RedisClient(configuration: configuration).withRunning { client in
            try await body(server, client)
        }
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The full path of an executable on PATH (or in the usual system directories).
public func findExecutable(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
    for directory in directories {
        let candidate = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw TestSupportError("\(name) not found on PATH; run `make deps`")
}
