import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The API and the worker as a container or a service user runs them: no root, no capabilities.
/// Run as root (CI, this machine), every other test would hide a step that needs a privilege; this
/// one starts both processes as `nobody` through `setpriv` (issue 26: a socket option that needs
/// CAP_NET_ADMIN kept every container from reaching Redis).
@Suite struct UnprivilegedTests {
    @Test func anUnprivilegedAPIAndWorkerTakeAndSettleABet() async throws {
        try await withBetMakerSystem(apiUser: .unprivileged) { system in
            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, as: .unprivileged)
            for process in [system.api, worker] {
                let identity = try Self.identity(of: process.pid)
                #expect(identity.uid != 0 && identity.effectiveCapabilities == 0, "\(process.name) runs as \(identity)")
            }
            let placed = try await system.request(.POST, "/bets", json: #"{"event_id": "unprivileged", "amount": "2.50"}"#)
            #expect(placed.status == 201, "\(placed.body)")
            let id = try #require(placed.string["id"])
            #expect(try await system.request(.PUT, "/events/unprivileged", json: #"{"status": "WIN"}"#).status == 202)
            #expect(await worker.waitForOutput(containing: "Event settled"), "\(worker.output)")
            #expect(try await system.request(.GET, "/bets/\(id)").string["status"] == "won")
            #expect(await worker.stop() == 0)
        }
    }

    /// The real user id and the effective capabilities of a running process, from /proc.
    static func identity(of pid: Int32) throws -> (uid: Int, effectiveCapabilities: UInt64) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> [Substring] {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }?.dropFirst(name.count + 1).split(
                whereSeparator: \.isWhitespace)
                ?? []
        }
        guard let uid = field("Uid").first.flatMap({ Int($0) }), let capabilities = field("CapEff").first.flatMap({ UInt64($0, radix: 16) })
        else { throw TestSupportError("no Uid or CapEff in /proc/\(pid)/status") }
        return (uid, capabilities)
    }
}
