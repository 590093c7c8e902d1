import Foundation

/// The children of a test process that was killed (a CI timeout, a `kill -9` of `swift test`) outlive
/// it: a redis-server per test, an API, a worker, with nobody left to stop them. Dozens of them once
/// slowed every later run on a two-core machine by a third. So each child is recorded with its
/// parent while it runs, and the first child that a later test process starts kills the recorded
/// children whose parent is gone.
///
/// A process is named by its pid and its start time, because pids are reused: a record never makes
/// the reaper kill a process other than the child it names, nor spare a child because an unrelated
/// process now has its dead parent's pid.
enum ChildRegistry {
    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("betmaker-test-children").path

    struct ProcessName: Equatable {
        let pid: Int32
        /// Field 22 of `/proc/<pid>/stat`: clock ticks after boot.
        let started: UInt64
    }

    static func name(of pid: Int32) -> ProcessName? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameEnd = stat.lastIndex(of: ")")
        else { return nil }
        // After the name (field 2, which may hold spaces) come fields 3, 4, …: field 22 is the 20th.
        let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 19, let started = UInt64(fields[19]) else { return nil }
        return ProcessName(pid: pid, started: started)
    }

    static func isRunning(_ process: ProcessName) -> Bool { name(of: process.pid) == process }

    static func record(child pid: Int32, parent: ProcessName? = name(of: getpid())) {
        guard let parent, let child = name(of: pid) else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let line = "\(parent.pid) \(parent.started) \(child.pid) \(child.started)"
        _ = FileManager.default.createFile(atPath: path(of: pid), contents: Data(line.utf8))
    }

    static func forget(child pid: Int32) {
        try? FileManager.default.removeItem(atPath: path(of: pid))
    }

    /// Done once per test process, before its first child starts.
    static let orphansReaped: Int = reapOrphans()

    /// Kills (SIGKILL) every recorded child whose parent is gone and forgets it; forgets the records
    /// of children that are gone. Returns how many it killed.
    @discardableResult
    static func reapOrphans() -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var killed = 0
        for file in files {
            let path = "\(directory)/\(file)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let numbers = text.split(separator: " ").compactMap { UInt64($0) }
            guard numbers.count == 4, let parentPID = Int32(exactly: numbers[0]), let childPID = Int32(exactly: numbers[2]) else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            let parent = ProcessName(pid: parentPID, started: numbers[1])
            let child = ProcessName(pid: childPID, started: numbers[3])
            guard isRunning(child) else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            if isRunning(parent) { continue }
            kill(child.pid, SIGKILL)
            killed += 1
            try? FileManager.default.removeItem(atPath: path)
        }
        return killed
    }

    private static func path(of pid: Int32) -> String { "\(directory)/\(pid)" }
}
