import Foundation
import Testing

@testable import TestSupport

/// The harness's promise that a killed test run leaves nothing behind for long: the next test
/// process stops the children whose parent is gone, and only those.
@Suite struct ChildRegistryTests {
    @Test func theNextTestProcessKillsAChildWhoseParentIsGoneAndSparesOneWhoseParentRuns() async throws {
        let orphan = try ChildProcess(name: "orphan", executable: "/bin/sleep", arguments: ["600"])
        let kept = try ChildProcess(name: "kept", executable: "/bin/sleep", arguments: ["600"])
        let me = try #require(ChildRegistry.name(of: getpid()))
        // The orphan's parent is "gone": this pid with another start time is what a killed parent
        // whose pid was reused looks like.
        ChildRegistry.record(child: orphan.pid, parent: .init(pid: me.pid, started: me.started + 1))

        #expect(ChildRegistry.reapOrphans() >= 1)

        #expect(await eventually { !orphan.isRunning })
        #expect(!FileManager.default.fileExists(atPath: "\(ChildRegistry.directory)/\(orphan.pid)"))
        #expect(kept.isRunning)
        #expect(FileManager.default.fileExists(atPath: "\(ChildRegistry.directory)/\(kept.pid)"))
        // A child that ends is forgotten.
        await kept.kill9()
        #expect(await eventually { !FileManager.default.fileExists(atPath: "\(ChildRegistry.directory)/\(kept.pid)") })
    }

    @Test func aProcessIsNamedByItsPidAndStartTime() throws {
        let me = try #require(ChildRegistry.name(of: getpid()))
        #expect(me.pid == getpid())
        #expect(ChildRegistry.isRunning(me))
        #expect(!ChildRegistry.isRunning(.init(pid: me.pid, started: me.started + 1)))
    }
}
