import Foundation
import NIOConcurrencyHelpers

/// A child process whose output is watched line by line, so a test can wait for the line that says
/// the child is ready ("Ready to accept connections", "Server started") instead of sleeping.
public final class ChildProcess: Sendable {
    public let name: String
    private let process: Process
    private let state: NIOLockedValueBox<State>

    private struct State {
        var output = ""
        var exited = false
        var watchers: [(pattern: String, continuation: CheckedContinuation<Bool, Never>)] = []
        /// The child closed its output (it exited, or closed the pipe): nothing more will come.
        var outputClosed = false
        var closeWatchers: [CheckedContinuation<Void, Never>] = []
    }

    /// Starts `executable` with `arguments`; stdout and stderr are merged and kept.
    public init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        self.name = name
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        self.process = process
        self.state = NIOLockedValueBox(State())
        let state = self.state
        process.terminationHandler = { process in
            ChildRegistry.forget(child: process.processIdentifier)
            let waiting = state.withLockedValue { state -> [CheckedContinuation<Bool, Never>] in
                state.exited = true
                defer { state.watchers = [] }
                return state.watchers.map(\.continuation)
            }
            for continuation in waiting { continuation.resume(returning: false) }
        }
        _ = ChildRegistry.orphansReaped
        try process.run()
        ChildRegistry.record(child: process.processIdentifier)
        // `run()` closed this process's copy of the pipe's writing end, so the output ends when the
        // child and whatever inherited its output are gone. A thread of its own blocks in read(2),
        // through `OutputReader`, which survives signals (Foundation's readers trap on EINTR).
        let output = pipe.fileHandleForReading
        Thread {
            let failure = OutputReader.readToEnd(output.fileDescriptor) { Self.received(String(decoding: $0, as: UTF8.self), state) }
            if let failure { Self.received("\n[reading the output failed: errno \(failure)]\n", state) }
            try? output.close()
            let waiting = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.outputClosed = true
                defer { state.closeWatchers = [] }
                return state.closeWatchers
            }
            for continuation in waiting { continuation.resume() }
        }.start()
    }

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

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var output: String { state.withLockedValue { $0.output } }
    public var exitCode: Int32? { process.isRunning ? nil : process.terminationStatus }

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
        if process.isRunning { kill(process.processIdentifier, signal) }
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
                    DispatchQueue.global().async {
                        self.process.waitUntilExit()
                        continuation.resume(returning: true)
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // The waiting thread returns only once the process is gone. Only a running child: the pid of
            // one that has exited may already name another process.
            if !first, self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
            return first
        }
        _ = exited
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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
