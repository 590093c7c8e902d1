import Foundation
import RedisClient
import Synchronization

/// The real `betmaker-api` and `betmaker-worker` executables, started as child processes next to
/// the test binary (`make test` and `swift test` build them into the same folder).
public enum BetMakerProcesses {
    /// The folder holding the built products: the one the running test binary is in.
    public static var productsDirectory: URL {
        let executable = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var directory = executable.deletingLastPathComponent()
        // On Linux the test runner is `<products>/<name>PackageTests.xctest`; on macOS it is inside a bundle.
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("betmaker-api").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    public static func executable(_ name: String) throws -> String {
        let path = productsDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("\(name) is not built next to the tests; run `make test` or `swift build` first")
        }
        return path
    }

    /// How a process under test is started: as the test runner's user, or, when that is root, as
    /// `nobody` with no capabilities, as a container or a systemd service user runs it (issue 26: a
    /// socket option that needs a privilege passed every test run as root and broke every container).
    public enum User: Sendable {
        case inherited
        case unprivileged
    }

    /// The user processes started `.unprivileged` run as when the tests run as root.
    public static let unprivilegedUser = (name: "nobody", uid: 65534, gid: 65534)

    /// The command line that starts `name` as `user`: unchanged when the tests run unprivileged
    /// already, else through `setpriv`, dropping every capability.
    static func command(_ name: String, arguments: [String], as user: User) throws -> (executable: String, arguments: [String]) {
        let path = try executable(name)
        guard case .unprivileged = user, geteuid() == 0 else { return (path, arguments) }
        let dropped = [
            "--reuid=\(unprivilegedUser.uid)", "--regid=\(unprivilegedUser.gid)", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--", try reachableByAnybody(path),
        ]
        return (try findExecutable("setpriv"), dropped + arguments)
    }

    /// `path` if every folder above it lets anybody through, else a hard link to it (a copy across file
    /// systems) in a temporary folder that does: the build folder may sit under a home directory that
    /// `nobody` cannot enter. One link per build of the executable, named by its inode, so parallel
    /// tests share it and a rebuilt executable replaces the stale links.
    private static func reachableByAnybody(_ path: String) throws -> String {
        var folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var open = true
        while open && folder.path != "/" {
            let mode = (try? FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int) ?? 0
            open = mode & 0o001 != 0
            folder = folder.deletingLastPathComponent()
        }
        if open { return path }
        var status = stat()
        guard stat(path, &status) == 0 else { throw TestSupportError("cannot stat \(path): errno \(errno)") }
        let shared = FileManager.default.temporaryDirectory.appendingPathComponent("betmaker-unprivileged")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        _ = chmod(shared.path, 0o755)
        let name = URL(fileURLWithPath: path).lastPathComponent
        let target = shared.appendingPathComponent("\(name)-\(status.st_ino)").path
        if FileManager.default.isExecutableFile(atPath: target) { return target }
        for stale in (try? FileManager.default.contentsOfDirectory(atPath: shared.path)) ?? [] where stale.hasPrefix(name + "-") {
            try? FileManager.default.removeItem(atPath: shared.appendingPathComponent(stale).path)
        }
        // Parallel tests may race here: build the file under a name of its own and rename it (atomic).
        let partial = target + ".\(getpid())-\(UUID().uuidString)"
        if link(path, partial) != 0 { try FileManager.default.copyItem(atPath: path, toPath: partial) }
        _ = chmod(partial, 0o755)
        guard rename(partial, target) == 0 else { throw TestSupportError("cannot place \(target): errno \(errno)") }
        return target
    }

    /// The JWT secret of processes under test, so a test can make its own tokens (forged ones too).
    public static let testJWTSecret = "test-secret-of-at-least-thirty-two-bytes"
    /// The payment provider's secret of processes under test.
    public static let testPaymentSecret = "test-payment-provider-secret"

    /// Per-client buckets far larger than a test uses: every request of a test comes from loopback, and
    /// the tests of the limits set their own.
    public static let unlimitedClients = [
        "AUTH_RATE_PER_MINUTE": "100000", "AUTH_RATE_BURST": "100000", "PLAYS_RATE_PER_MINUTE": "100000", "PLAYS_RATE_BURST": "100000",
    ]

    /// The shard count the processes under test run with unless a test names its own (`REDIS_SHARDS`):
    /// the test process's `REDIS_SHARDS`, so a suite runs sharded with `REDIS_SHARDS=4 swift test`; unset,
    /// 1 on one server and `RedisDeploymentMode.clusterShards` on a cluster.
    public static let testShards =
        ProcessInfo.processInfo.environment["REDIS_SHARDS"].flatMap { Int($0) }
        ?? (RedisDeploymentMode.current == .cluster ? RedisDeploymentMode.clusterShards : 1)

    /// Environment for a process under test: the given settings, and nothing from a developer's .env.
    static func environment(_ settings: [String: String]) -> [String: String] {
        var environment = [
            "REDIS_SHARDS": String(testShards),
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LOG_LEVEL": "info", "JWT_SECRET": testJWTSecret,
            "BCRYPT_COST": "10", "PAYMENT_WEBHOOK_SECRET": testPaymentSecret,
            "REDIS_CONNECT_TIMEOUT_MS": String(RedisServer.testConnectTimeout.inMilliseconds),
        ].merging(unlimitedClients) { $1 }
        environment.merge(settings) { $1 }
        return environment
    }

    /// Starts the API on a free port, and its operations server (`/health/*`, `/metrics`) on another
    /// unless `settings` gives `API_OPERATIONS_PORT`, and waits until both listen. Returns the process
    /// and its base URL; `operationsURL(of:)` gives the other.
    public static func startAPI(
        redis: any RedisDeployment, settings: [String: String] = [:], as user: User = .inherited
    ) async throws -> (ChildProcess, String) {
        let command = try command("betmaker-api", arguments: ["--env-file", "/nonexistent/.env"], as: user)
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            let defaults = redis.processSettings.merging([
                "WEB_SERVER_HOST": "127.0.0.1", "WEB_SERVER_PORT": "\(port)", "API_OPERATIONS_PORT": "\(try freeLoopbackPort())",
            ]) { $1 }
            let processEnvironment = environment(defaults.merging(settings) { $1 })
            let process = try ChildProcess(
                name: "betmaker-api", executable: command.executable, arguments: command.arguments, environment: processEnvironment)
            let operationsPort = processEnvironment["API_OPERATIONS_PORT"] ?? "0"
            var listening = await process.waitForOutput(containing: "Server started and listening on 127.0.0.1:\(port)")
            if listening && operationsPort != "0" {
                listening = await process.waitForOutput(containing: "listening on 127.0.0.1:\(operationsPort)")
            }
            if listening {
                operationsURLs.withLock { $0[process.pid] = "http://127.0.0.1:\(operationsPort)" }
                return (process, "http://127.0.0.1:\(port)")
            }
            await process.stop(signal: SIGKILL)
            if !process.output.contains("Address already in use") {
                throw TestSupportError("betmaker-api did not start:\n\(process.output)")
            }
        }
        throw TestSupportError("betmaker-api found no free port")
    }

    /// The operations servers of the APIs started here, by process id.
    private static let operationsURLs = Mutex<[Int32: String]>([:])

    /// Where an API started by `startAPI` answers `/health/*` and `/metrics`.
    public static func operationsURL(of api: ChildProcess) -> String? {
        operationsURLs.withLock { $0[api.pid] }
    }

    /// `betmaker-api seed` as on a developer's machine (`make seed`: DEVELOPMENT_MODE=true), so the demo
    /// logins have their published passwords (`Seed.Logins.demoPasswords`).
    public static func seedDemo(
        redis: any RedisDeployment, settings: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        try await run("betmaker-api", ["seed"], redis: redis, settings: ["DEVELOPMENT_MODE": "true"].merging(settings) { $1 })
    }

    /// Runs a subcommand of `executable` (e.g. `betmaker-api seed`) against `redis` to its end: its exit
    /// status and output.
    public static func run(
        _ executable: String, _ arguments: [String], redis: any RedisDeployment, settings: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        try await run(executable, arguments, redisSettings: redis.processSettings, settings: settings)
    }

    /// The same with any Redis URL (one nothing listens at, for a command that must not get that far).
    public static func run(
        _ executable: String, _ arguments: [String], redisURL: String, settings: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        try await run(executable, arguments, redisSettings: ["REDIS_URL": redisURL], settings: settings)
    }

    private static func run(
        _ executable: String, _ arguments: [String], redisSettings: [String: String], settings: [String: String]
    ) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(
            name: "\(executable) \(arguments.joined(separator: " "))", executable: try self.executable(executable),
            arguments: arguments + ["--env-file", "/nonexistent/.env"],
            environment: environment(redisSettings.merging(settings) { $1 }))
        return await process.waitForCompletion(timeout: .seconds(120))
    }

    /// Runs `betmaker-worker check` against `redis` to its end: its exit status and output.
    public static func runCheck(
        redis: any RedisDeployment, settings: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(
            name: "betmaker-worker:check", executable: try executable("betmaker-worker"),
            arguments: ["check", "--env-file", "/nonexistent/.env"],
            environment: environment(redis.processSettings.merging(settings) { $1 }))
        // The summary line is its last; waiting for it lets the output be read to the end.
        _ = await process.waitForOutput(containing: " violation(s); ", timeout: .seconds(120))
        let status = await process.waitForExit(timeout: .seconds(10))
        return (status, process.output)
    }

    /// Starts a worker and waits until it reads the stream. Its HTTP port (health and metrics) is off
    /// unless `settings` gives `WORKER_HTTP_PORT`, so several workers can run side by side.
    public static func startWorker(
        redis: any RedisDeployment, name: String = "worker-1", settings: [String: String] = [:], as user: User = .inherited
    ) async throws
        -> ChildProcess
    {
        let command = try command("betmaker-worker", arguments: ["--env-file", "/nonexistent/.env"], as: user)
        let process = try ChildProcess(
            name: "betmaker-worker:\(name)", executable: command.executable, arguments: command.arguments,
            environment: environment(
                redis.processSettings.merging(["WORKER_NAME": name, "WORKER_HTTP_PORT": "0"]) { $1 }.merging(settings) { $1 }))
        guard await process.waitForOutput(containing: "Settlement worker starting") else {
            throw TestSupportError("betmaker-worker did not start:\n\(process.output)")
        }
        return process
    }
}
