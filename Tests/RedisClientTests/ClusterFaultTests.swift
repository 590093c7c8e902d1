import Foundation
import MetricsTestKit
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import RedisClient

/// Slots that move and masters that fail while the client is busy.
extension ClusterTests {
    /// Commands that must all succeed while a slot moves: reads of keys that exist, writes of new keys,
    /// a script over two keys of the slot (TRYAGAIN while they are split between the nodes), and a
    /// pipeline of a write and its WAIT. Runs until `stop` is set; returns what failed.
    static func traffic(_ redis: RedisClient, tag: String, existing: Int, stop: StopSignal) async -> [String] {
        let script = RedisScript(name: "pair", source: "#!lua\nredis.call('INCR', KEYS[1]); return redis.call('GET', KEYS[2])")
        return await withTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var failures: [String] = []
                    var round = 0
                    while !stop.isSet {
                        round += 1
                        let index = (worker * 7919 + round * 31) % existing
                        do {
                            let value = try await redis.get("\(tag):k\(index)")
                            if value != "v\(index)" { failures.append("GET k\(index) read \(value ?? "nil")") }
                            try await redis.set("\(tag):new:\(worker):\(round)", to: "n")
                            let pair = try await redis.eval(script, keys: ["\(tag):counter", "\(tag):k\(index)"])
                            if pair.string != "v\(index)" { failures.append("script read \(pair)") }
                            let replies = try await redis.pipeline([
                                RedisCommand("SET", "\(tag):piped:\(worker):\(round)", "p"), .wait(replicas: 1, timeout: .seconds(1)),
                            ])
                            _ = try replies[0].get()
                            _ = try replies[1].get()
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test func followsASlotMigrationUnderTrafficTakingAskAndMoved() async throws {
        try await Self.withClusterClient { cluster, redis, metrics in
            let tag = "{migrating}"
            let slot = HashSlot.of("migrating")
            let existing = 200
            for reply in try await redis.pipeline((0..<existing).map { RedisCommand("SET", "\(tag):k\($0)", "v\($0)") }) {
                _ = try reply.get()
            }
            let source = try await cluster.owner(ofSlot: slot)
            let target = try #require(try await cluster.masters().first { $0.port != source.port })

            let stop = StopSignal()
            async let failures = Self.traffic(redis, tag: tag, existing: existing, stop: stop)
            try await cluster.migrate(
                slot: slot, to: target, keysPerBatch: 25,
                afterBatch: { moved in
                    // Half the keys are on the target: reads of those must be asked there.
                    if moved >= existing / 2 { #expect(await eventually { try Self.redirects("ask", metrics) > 0 }) }
                })
            // The slot is the target's now: the source says MOVED, and the client's map follows.
            #expect(await eventually { try Self.redirects("moved", metrics) > 0 })
            let targetID = try await cluster.send(RedisCommand("CLUSTER", "MYID"), to: target)
            #expect(await eventually { try await redis.connection(forKey: "\(tag):k0").send(RedisCommand("CLUSTER", "MYID")) == targetID })
            stop.set()
            let failed = await failures
            #expect(failed.isEmpty, "\(failed.count) commands failed, e.g. \(failed.prefix(5))")

            let onTarget = try await cluster.send(RedisCommand("CLUSTER", "COUNTKEYSINSLOT", slot), to: target).int(for: "COUNT")
            let onSource = try await cluster.send(RedisCommand("CLUSTER", "COUNTKEYSINSLOT", slot), to: source).int(for: "COUNT")
            #expect(onSource == 0 && onTarget > existing)
            let values = try await redis.pipeline((0..<existing).map { RedisCommand("GET", "\(tag):k\($0)") })
            #expect(try values.map { try $0.get().string } == (0..<existing).map { "v\($0)" })
        }
    }

    @Test func aPinnedConnectionReportsRedirectsForTheCallerToReplan() async throws {
        try await Self.withClusterClient { cluster, redis, _ in
            let key = "{pinned}:list"
            let slot = HashSlot.of(key)
            try await redis.rpush(key, ["a"])
            let source = try await cluster.owner(ofSlot: slot)
            let target = try #require(try await cluster.masters().first { $0.port != source.port })
            let targetID = try await cluster.send(RedisCommand("CLUSTER", "MYID"), to: target)
            let pinned = try await redis.connection(forKey: key)
            #expect(try await pinned.send(RedisCommand("CLUSTER", "MYID")) == cluster.send(RedisCommand("CLUSTER", "MYID"), to: source))

            try await cluster.migrate(
                slot: slot, to: target,
                beforeHandover: {
                    // The key has moved, the slot not yet: the source asks for this one command to go
                    // to the target, and the pinned connection says so instead of going there.
                    let replies = try await pinned.submit([RedisCommand("LLEN", key)]).replies()
                    #expect(
                        replies[0] == .failure(.redirected(RedisRedirect(kind: .ask, slot: slot, endpoint: cluster.endpoint(of: target)))))
                    #expect(try await redis.llen(key) == 1, "the client's own calls follow ASK")
                })
            await #expect(throws: RedisError.redirected(RedisRedirect(kind: .moved, slot: slot, endpoint: cluster.endpoint(of: target)))) {
                try await pinned.send(RedisCommand("LLEN", key))
            }
            // The map learned the new owner from that MOVED: the next pinned connection goes there.
            let replanned = try await redis.connection(forKey: key)
            #expect(try await replanned.send(RedisCommand("CLUSTER", "MYID")) == targetID)
            #expect(try await replanned.submit([RedisCommand("LLEN", key)]).replies()[0].get() == .integer(1))
        }
    }

    @Test func aWriteWhoseConnectionDroppedInFlightIsNeverSentAgain() async throws {
        try await Self.withClusterClient(configure: { $0.commandTimeout = .milliseconds(500) }) { cluster, redis, _ in
            let key = "{unknown}:n"
            try await redis.set(key, to: "0")
            let owner = try await cluster.owner(ofSlot: HashSlot.of(key))
            // Frozen for less than the node timeout: no failover, only a command without an answer.
            owner.signal(SIGSTOP)
            do {
                try await redis.incr(key)
                Issue.record("a frozen node cannot answer")
            } catch let error as RedisError {
                guard case .timeout(let command, _) = error else { throw error }
                #expect(command == "INCRBY" && error.mayHaveRun)
            }
            owner.signal(SIGCONT)
            // The INCRBY in flight runs when the node wakes, once: the client did not send it again.
            #expect(await eventually { try await redis.get(key) == "1" })
            let stats = try await cluster.send(RedisCommand("INFO", "commandstats"), to: owner).string(for: "INFO")
            #expect(stats.contains("cmdstat_incrby:calls=1,"), "\(stats)")
        }
    }

    /// Writers that each `SET` a new key and `WAIT` for its replica, until `stop`. A write counts as
    /// acknowledged when `SET` said OK and its replica had it (the master's replica is the one a
    /// failover promotes); one refused as not run is recorded so the test can check it did not happen.
    struct Writes: Sendable {
        var acknowledged: [String: String] = [:]
        var unreplicated = 0
        var notRun: [String] = []
        var unknown = 0
    }

    static func writers(_ redis: RedisClient, stop: StopSignal) async -> Writes {
        await withTaskGroup(of: Writes.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    var writes = Writes()
                    var round = 0
                    while !stop.isSet {
                        round += 1
                        let key = "w:\(worker):\(round)"
                        do {
                            let (_, replicas) = try await redis.send(
                                RedisCommand("SET", key, "\(round)"), waitingForReplicas: 1, timeout: .seconds(1))
                            // Both count as progress: after the crash the promoted master has no replica,
                            // so a third of the writes wait out the timeout unreplicated, and under load
                            // counting only acknowledged ones took the writers past `eventually`'s 30 s.
                            if replicas >= 1 {
                                writes.acknowledged[key] = "\(round)"
                            } else {
                                writes.unreplicated += 1
                            }
                            stop.count()
                        } catch let error as RedisError where error.mayHaveRun {
                            writes.unknown += 1
                        } catch {
                            writes.notRun.append(key)
                        }
                    }
                    return writes
                }
            }
            return await group.reduce(into: Writes()) { all, writes in
                all.acknowledged.merge(writes.acknowledged) { first, _ in first }
                all.unreplicated += writes.unreplicated
                all.notRun += writes.notRun
                all.unknown += writes.unknown
            }
        }
    }

    /// How long until a write to `key` succeeds through the client, from `since`.
    static func recovery(of redis: RedisClient, key: String, since: ContinuousClock.Instant, bound: Duration) async -> Duration? {
        while ContinuousClock.now - since < bound {
            if (try? await redis.set(key, to: "probe")) == true { return ContinuousClock.now - since }
        }
        return nil
    }

    /// How long until `replica` says it is master, from `since`.
    static func promotion(
        of replica: RedisServer, in cluster: RedisCluster, since: ContinuousClock.Instant, bound: Duration
    ) async -> Duration? {
        let polled = await poll(timeout: bound, every: .milliseconds(10)) { try await cluster.role(of: replica) == "master" }
        return polled.held ? ContinuousClock.now - since : nil
    }

    @Test func recoversFromAFailoverAndACrashWithoutLosingAcknowledgedWrites() async throws {
        // A crashed master is failed after the node timeout (2 s), its replica elected within about
        // 1.5 s more, and the client's map refreshed within a second after that: about 5 s. The bound
        // leaves room for a loaded machine; the figures measured are printed.
        let bound = Duration.seconds(15)
        try await Self.withClusterClient { cluster, redis, _ in
            let script = RedisScript(name: "stamp", source: "#!lua\nreturn redis.call('INCR', KEYS[1])")
            let masters = try await cluster.masters()
            for master in masters { _ = try await redis.eval(script, keys: [try await Self.key("s:", on: master, in: cluster)]) }
            let stop = StopSignal()
            async let load = Self.writers(redis, stop: stop)
            #expect(await eventually { stop.counted >= 100 }, "the writers are writing")

            // A controlled failover: the replica takes over, its old master becomes its replica.
            let first = masters[0]
            let firstReplica = try await cluster.replica(of: first)
            let firstProbe = try await Self.key("probe:a:", on: first, in: cluster)
            try await cluster.failover(to: firstReplica)
            let switched = ContinuousClock.now
            let controlled = await Self.recovery(of: redis, key: firstProbe, since: switched, bound: bound)

            // A crash: kill -9 of another master; its replica has never been a master.
            let victim = masters[1]
            let promoted = try await cluster.replica(of: victim)
            let victimProbe = try await Self.key("probe:b:", on: victim, in: cluster)
            let scriptKey = try await Self.key("s:", on: victim, in: cluster)
            #expect(try await cluster.send(RedisCommand("SCRIPT", "EXISTS", script.sha1), to: promoted) == .array([.integer(0)]))
            await cluster.crash(victim)
            let crashed = ContinuousClock.now
            // When the cluster itself had a new master, beside when the client wrote there again.
            async let promotion = Self.promotion(of: promoted, in: cluster, since: crashed, bound: bound)
            let crash = await Self.recovery(of: redis, key: victimProbe, since: crashed, bound: bound)
            let promotedAfter = await promotion
            print(
                "Cluster failover recovery: controlled failover, first write after the switch \(controlled.map { "\($0)" } ?? "none"); "
                    + "kill -9, first write after \(crash.map { "\($0)" } ?? "none") (replica promoted after \(promotedAfter.map { "\($0)" } ?? "none"))"
            )
            #expect(controlled != nil, "writes to the failed-over shard did not resume within \(bound)")
            #expect(crash != nil, "writes to the crashed master's slots did not resume within \(bound)")
            #expect(try await cluster.role(of: promoted) == "master")

            // The script runs on the promoted node, which had never been given it.
            #expect(try await redis.eval(script, keys: [scriptKey]) == .integer(2))
            #expect(try await cluster.send(RedisCommand("SCRIPT", "EXISTS", script.sha1), to: promoted) == .array([.integer(1)]))

            // The writers go on after both failovers.
            let beforeStop = stop.counted
            #expect(await eventually { stop.counted >= beforeStop + 100 }, "the writers are writing again")
            stop.set()
            let writes = await load
            print(
                "Cluster failover writes: \(writes.acknowledged.count) acknowledged, \(writes.unreplicated) without a replica's ack, "
                    + "\(writes.unknown) outcome unknown, \(writes.notRun.count) not run")
            let keys = Array(writes.acknowledged.keys)
            var lost: [String] = []
            for start in stride(from: 0, to: keys.count, by: 500) {
                let page = Array(keys[start..<min(start + 500, keys.count)])
                for (key, reply) in zip(page, try await redis.pipeline(page.map { RedisCommand("GET", $0) }))
                where try reply.get().string != writes.acknowledged[key] {
                    lost.append(key)
                }
            }
            #expect(lost.isEmpty, "acknowledged writes lost: \(lost.prefix(10))")
            // A write reported as not run did not happen.
            if !writes.notRun.isEmpty {
                #expect(
                    try await redis.pipeline(writes.notRun.map { RedisCommand("EXISTS", $0) }).allSatisfy { try $0.get() == .integer(0) })
            }
        }
    }
}

/// Tells load generators in other tasks to stop, and counts what they got done meanwhile.
final class StopSignal: Sendable {
    private let flag = Atomic(false)
    private let done = Atomic(0)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func count() { done.add(1, ordering: .relaxed) }
    var counted: Int { done.load(ordering: .relaxed) }
}
