import BetMaker
import Foundation
import RedisClient
import TestSupport
import Testing

extension ProcessFaultTests {
    // MARK: The ESP outbox's relay killed

    /// 1,000 creates wait in the outbox; the worker is SIGKILLed three times while it delivers them
    /// (with creates in flight at the fake ESP), restarted under its name (it re-reads its own pending
    /// messages), and the last time replaced by another worker that claims the dead one's messages.
    /// What is guaranteed: every create reaches the ESP (none lost) and every contact ends `synced`;
    /// a create is sent again only when a worker died between the ESP's answer and the
    /// acknowledgement, so at most the messages one worker had in flight (`readCount`, 32) per kill;
    /// such a repeat is an idempotent `PUT`, and the ESP holds each contact once.
    @Test func aWorkerKilledWithAThousandCreatesInTheOutboxDeliversEveryOneAndLosesNone() async throws {
        try await withFakeESP { esp in
            // Slow enough that each kill falls with creates in flight.
            esp.setBehaviour(.init(delay: .milliseconds(20)))
            try await withBetMakerSystem(apiSettings: esp.settings) { system in
                let contacts = ContactStore(redis: system.redis, keys: Self.keys)
                let addresses = (0..<1000).map { "player\($0)@example.com" }
                // Recorded through the store (the API's code path), as addresses the ESP lacks.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<10 {
                        group.addTask {
                            for address in addresses[(task * 100)..<(task * 100 + 100)] {
                                let play = try await contacts.play(EmailAddress(normalizing: address)!, userID: nil) { _ in false }
                                guard !play.wasKnown else { throw TestSupportError("\(address) was known") }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await system.redis.xlen(Self.keys.contactOutbox(shard: 0)) == 1000)

                var worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "relay", settings: esp.settings)
                var killedAt: [Int] = []
                for round in 0..<3 {
                    let target = esp.calls("PUT") + Int.random(in: 100...200)
                    #expect(await eventually(every: .milliseconds(1)) { esp.calls("PUT") >= target })
                    await worker.kill9()
                    killedAt.append(esp.memberCount)
                    worker =
                        round < 2
                        ? try await BetMakerProcesses.startWorker(redis: system.deployment, name: "relay", settings: esp.settings)
                        : try await BetMakerProcesses.startWorker(
                            redis: system.deployment, name: "rescuer",
                            settings: esp.settings.merging(["WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"]) { $1 })
                }
                #expect(await eventually(timeout: .seconds(60)) { esp.memberCount == 1000 }, "killed at \(killedAt)")
                #expect(killedAt.allSatisfy { $0 < 1000 }, "every kill fell before the end: \(killedAt)")
                #expect(
                    await eventually { try await system.redis.xpendingSummary(Self.keys.contactOutbox(shard: 0), group: "esp").count == 0 })
                #expect(addresses.allSatisfy { esp.holds($0) && esp.calls("PUT", $0) >= 1 })
                var notSynced: [String] = []
                for address in addresses {
                    let sync = try await system.redis.hget(Self.keys.contact(EmailAddress.subscriberHash(of: address)), "sync")
                    if sync != "synced" { notSynced.append(address) }
                }
                #expect(notSynced.isEmpty, "\(notSynced.prefix(10))")
                let repeated = esp.calls("PUT") - 1000
                #expect((0...3 * 32).contains(repeated), "\(repeated) creates sent twice")
                print("ESP outbox: 1000 creates delivered; \(repeated) sent again after a kill (idempotent PUTs); killed at \(killedAt)")
                #expect(esp.calls("GET") == 0 && esp.calls("POST") == 0)
                #expect(await worker.stop() == 0)
            }
        }
    }
}
