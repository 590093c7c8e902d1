import Foundation
import NIOConcurrencyHelpers

/// A child process whose output is watched line by line, so a test can wait for the line that says
/// the child is ready ("Ready to accept connections", "Server started") instead of sleeping.
///
/// Started with `posix_spawn` directly rather than Foundation's `Process`: on Linux, Swift 6.3.1's
/// `Process.run()` over-reads a `dirent` while it lists `/proc/self/fd` and crashes the test process now
/// and then (swift-corelibs-foundation PR 5472), more often the more descriptors are open, as on a
/// test run that starts Redis clusters.
public final class ChildProcess: Sendable {
    public let name: String
    public let pid: Int32
    private let state: NIOLockedValueBox<State>

    private struct State {
        var output = ""
        var exited = false
        /// The exit status, or the number of the signal that ended it (as Foundation's `Process` says).
        var status: Int32 = 0
        var exitWatchers: [CheckedContinuation<Void, Never>] = []
        var watchers: [(pattern: String, continuation: CheckedContinuation<Bool, Never>)] = []
        /// The child closed its output (it exited, or closed the pipe): nothing more will come.
        var outputClosed = false
        var closeWatchers: [CheckedContinuation<Void, Never>] = []
    }

    /// Starts `executable` with `arguments` (and `environment`, else this process's); stdout and stderr
    /// are merged and kept. The child gets no other descriptor of this process and a process group of
    /// its own.
    public init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        self.name = name
        let state = NIOLockedValueBox(State())
        self.state = state
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TestSupportError("pipe failed: errno \(errno)") }
        let (reading, writing) = (fds[0], fds[1])
        // Children of other spawners keep out of this pipe (ours close every descriptor above 2 anyway).
        _ = fcntl(reading, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writing, F_SETFD, FD_CLOEXEC)
        _ = ChildRegistry.orphansReaped
        do {
            pid = try Self.spawn(executable, arguments: arguments, environment: environment, output: writing)
        } catch {
            close(reading)
            close(writing)
            throw error
        }
        // This process's copy of the writing end goes, so the output ends when the child and whatever
        // inherited its output are gone.
        close(writing)
        ChildRegistry.record(child: pid)
        let pid = self.pid
        // A thread of its own blocks in read(2), through `OutputReader`, which survives signals.
        Thread {
            let failure = OutputReader.readToEnd(reading) { Self.received(String(decoding: $0, as: UTF8.self), state) }
            if let failure { Self.received("\n[reading the output failed: errno \(failure)]\n", state) }
            close(reading)
            let waiting = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.outputClosed = true
                defer { state.closeWatchers = [] }
                return state.closeWatchers
            }
            for continuation in waiting { continuation.resume() }
        }.start()
        // Another blocks in waitpid(2) until the child exits.
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            ChildRegistry.forget(child: pid)
            let (exits, watchers) = state.withLockedValue { state in
                state.exited = true
                // WIFEXITED / WEXITSTATUS / WTERMSIG of <sys/wait.h>, which Swift does not import.
                state.status = status & 0x7F == 0 ? (status >> 8) & 0xFF : status & 0x7F
                defer {
                    state.exitWatchers = []
                    state.watchers = []
                }
                return (state.exitWatchers, state.watchers.map(\.continuation))
            }
            for continuation in exits { continuation.resume() }
            for continuation in watchers { continuation.resume(returning: false) }
        }.start()
    }

    /// `posix_spawn` with the output on `output` (both stdout and stderr) and every other descriptor
    /// closed in the child (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34 and later).
    private static func spawn(_ executable: String, arguments: [String], environment: [String: String]?, output: Int32) throws -> Int32 {
        guard let addCloseFrom = closeFrom else {
            throw TestSupportError("this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, output, STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, output, STDERR_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        _ = addCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: Int32 = 0
        let result = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
            }
        }
        guard result == 0 else { throw TestSupportError("cannot start \(executable): errno \(result)") }
        return pid
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// Looked up at run time: Swift's Glibc module does not declare it.
    private static let closeFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// Keeps `text` and wakes the watchers whose pattern the output now contains.
    private static func received(_ text: String, _ state: NIOLockedValueBox<State>) {
        let ready = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            state.output += text
            let output = state.output
            let (met, waiting) = state.watchers.partitioned { output.contains($0.pattern) }
            state.watchers = waiting
            return met.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    public var isRunning: Bool { !state.withLockedValue { $0.exited } }
    public var output: String { state.withLockedValue { $0.output } }
    public var exitCode: Int32? { state.withLockedValue { $0.exited ? $0.status : nil } }

    /// Waits until the output contains `pattern`. Returns false if the process exits first or
    /// `timeout` passes (a bound against a child that hangs, not a way of synchronising).
    public func waitForOutput(containing pattern: String, timeout: Duration = .seconds(30)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let immediate: Bool? = self.state.withLockedValue { state in
                        if state.output.contains(pattern) { return true }
                        if state.exited { return false }
                        state.watchers.append((pattern, continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // The group ends only when the watcher is resumed too.
            if !first { self.releaseWatchers(for: pattern) }
            return first
        }
    }

    private func releaseWatchers(for pattern: String) {
        let released = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
            let (matching, others) = state.watchers.partitioned { $0.pattern == pattern }
            state.watchers = others
            return matching.map(\.continuation)
        }
        for continuation in released { continuation.resume(returning: false) }
    }

    /// Waits for the process to exit and for the last of its output, for commands that run to their
    /// end: the exit status and everything the command printed.
    public func waitForCompletion(timeout: Duration = .seconds(60)) async -> (status: Int32, output: String) {
        let status = await waitForExit(timeout: timeout)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let closed = self.state.withLockedValue { state in
                        if !state.outputClosed { state.closeWatchers.append(continuation) }
                        return state.outputClosed
                    }
                    if closed { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: .seconds(5)) }
            await group.next()
            group.cancelAll()
            // Whichever finished first, the other watcher must be released for the group to end.
            let waiting = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                defer { state.closeWatchers = [] }
                return state.closeWatchers
            }
            for continuation in waiting { continuation.resume() }
        }
        return (status, output)
    }

    /// Sends `signal` (SIGTERM by default) and waits for the process to exit.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async -> Int32 {
        if isRunning { kill(pid, signal) }
        return await waitForExit(timeout: timeout)
    }

    /// SIGKILL: the process gets no chance to clean up.
    @discardableResult
    public func kill9() async -> Int32 { await stop(signal: SIGKILL) }

    /// Waits for the process to exit; after `timeout` it is killed.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60)) async -> Int32 {
        let exited = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let exited = self.state.withLockedValue { state in
                        if !state.exited { state.exitWatchers.append(continuation) }
                        return state.exited
                    }
                    if exited { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // The waiting child task returns only once the process is gone. Only a running child: the
            // pid of one that has exited (and been waited for) may already name another process.
            if !first, self.isRunning { kill(self.pid, SIGKILL) }
            return first
        }
        _ = exited
        return state.withLockedValue { $0.status }
    }

    deinit {
        if isRunning { kill(pid, SIGKILL) }
    }
}

extension Array {
    fileprivate func partitioned(by belongsInFirst: (Element) -> Bool) -> ([Element], [Element]) {
        var first: [Element] = []
        var second: [Element] = []
        for element in self {
            if belongsInFirst(element) { first.append(element) } else { second.append(element) }
        }
        return (first, second)
    }
}
