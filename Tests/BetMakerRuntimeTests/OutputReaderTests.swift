import Foundation
import Synchronization
import TestSupport
import Testing

/// The reader of children's output against what once crashed a whole test run (issue 27): a read(2)
/// that a signal interrupts (EINTR).
@Suite(.serialized) struct OutputReaderTests {
    @Test func readsASlowChildsOutputToTheEndWhileSignalsInterruptTheRead() async throws {
        // SIGUSR1, handled without SA_RESTART: a thread blocked in read(2) that takes one gets EINTR.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in signalsHandled.add(1, ordering: .relaxed) }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        #expect(sigaction(SIGUSR1, &action, &previous) == 0)
        defer { sigaction(SIGUSR1, &previous, nil) }

        // The child writes a line, then waits for its input before it writes the last one: the reader
        // is blocked in read(2) for as long as the test needs, without a timing assumption.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "echo first; read go; echo last"]
        let input = Pipe()
        let output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        // A pipe nothing is ever written to, for the first read: the one that shows what a signal does.
        let silent = Pipe()
        let reader = ReaderThread(silent: silent.fileHandleForReading.fileDescriptor, output: output.fileHandleForReading.fileDescriptor)
        reader.start()
        defer {
            try? silent.fileHandleForWriting.close()
            try? input.fileHandleForWriting.close()
        }

        // A plain read(2) fails with EINTR here: what the reader must survive.
        try await interrupt(reader)
        #expect(await eventually { reader.plainRead.withLock { $0 } != nil })
        #expect(reader.plainRead.withLock { $0 } == EINTR)

        // The reader's read of the child's output, interrupted three times, goes on to the end.
        #expect(await eventually { reader.received.withLock { String(decoding: $0, as: UTF8.self) } == "first\n" })
        for _ in 1...3 { try await interrupt(reader) }
        try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        #expect(await eventually { reader.finished.withLock { $0 } })
        #expect(reader.failure.withLock { $0 } == nil, "reading failed with errno \(String(describing: reader.failure.withLock { $0 }))")
        #expect(reader.received.withLock { String(decoding: $0, as: UTF8.self) } == "first\nlast\n")
        child.waitUntilExit()
    }

    /// Sends SIGUSR1 to the reader once it is blocked in read(2), and waits until the handler ran;
    /// nothing once the reader has finished (a reader that gave up: the checks after say so).
    private func interrupt(_ reader: ReaderThread) async throws {
        #expect(await eventually { reader.isBlockedInRead || reader.finished.withLock { $0 } })
        if reader.finished.withLock({ $0 }) { return }
        let handled = signalsHandled.load(ordering: .relaxed)
        let thread = try #require(reader.thread.withLock { $0 })
        #expect(pthread_kill(thread, SIGUSR1) == 0)
        #expect(await eventually { signalsHandled.load(ordering: .relaxed) > handled })
    }
}

private let signalsHandled = Atomic<Int>(0)

/// A thread that takes SIGUSR1 (threads started by the concurrency runtime block it): first a plain
/// read(2) of `silent`, which only a signal ends, then `OutputReader` on `output` to its end.
private final class ReaderThread: Sendable {
    let silent: Int32
    let output: Int32
    let thread = Mutex<pthread_t?>(nil)
    /// The kernel's id of the thread, for /proc/self/task/<id>.
    let taskID = Mutex<String?>(nil)
    /// The errno of the plain read.
    let plainRead = Mutex<Int32?>(nil)
    let received = Mutex<[UInt8]>([])
    let failure = Mutex<Int32?>(nil)
    let finished = Mutex(false)

    init(silent: Int32, output: Int32) {
        self.silent = silent
        self.output = output
    }

    func start() {
        Thread {
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            self.thread.withLock { $0 = pthread_self() }
            self.taskID.withLock {
                $0 = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))?.components(separatedBy: "/").last
            }
            var byte: UInt8 = 0
            let count = read(self.silent, &byte, 1)
            let error = errno
            self.plainRead.withLock { $0 = count < 0 ? error : 0 }
            let failure = OutputReader.readToEnd(self.output) { bytes in self.received.withLock { $0 += bytes } }
            self.failure.withLock { $0 = failure }
            self.finished.withLock { $0 = true }
        }.start()
    }

    /// The thread is in read(2): /proc/self/task/<id>/syscall starts with read's number.
    var isBlockedInRead: Bool {
        guard let taskID = taskID.withLock({ $0 }),
            let syscall = try? String(contentsOfFile: "/proc/self/task/\(taskID)/syscall", encoding: .utf8)
        else { return false }
        return syscall.split(separator: " ").first.map(String.init) == Self.readSyscallNumber
    }

    #if arch(x86_64)
        static let readSyscallNumber = "0"
    #elseif arch(arm64)
        static let readSyscallNumber = "63"
    #endif
}
