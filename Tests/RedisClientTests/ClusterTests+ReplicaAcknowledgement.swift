import Foundation
import TestSupport
import Testing

@testable import RedisClient

/// `RedisConfiguration.replicaAcknowledgement`: a script that may write answers once its master's
/// replica has the write (issue 30: what a failover may lose after a money write is narrowed to writes
/// whose wait timed out).
extension ClusterTests {
    @Test func aWritingScriptAnswersOnceTheReplicaHasItsWrite() async throws {
        try await Self.withClusterClient(configure: {
            $0.replicaAcknowledgement = ReplicaAcknowledgement(replicas: 1, timeout: .seconds(5))
        }) { cluster, redis, _ in
            let write = RedisScript(name: "credit", source: "#!lua\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
            let read = RedisScript(name: "read", source: "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])")
            let key = "{money}:balance"
            let owner = try await cluster.owner(ofSlot: HashSlot.of(key))
            let replica = try await cluster.replica(of: owner)
            func waits() async throws -> Int {
                let stats = try await cluster.send(RedisCommand("INFO", "commandstats"), to: owner).string(for: "INFO")
                let line = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_wait:") }
                return line.flatMap { Int($0.split(separator: "=")[1].split(separator: ",")[0]) } ?? 0
            }
            // Loaded ahead, so no call meets NOSCRIPT (which sends the script and its WAIT again).
            try await redis.load([write, read])
            for round in 1...20 {
                #expect(try await redis.eval(write, keys: [key], arguments: ["5"]) == .integer(Int64(5 * round)))
                // No polling: the reply came after WAIT, so the replica holds this write already.
                let onReplica = try await cluster.withConnection(to: replica) { connection in
                    _ = try await connection.send(RedisCommand("READONLY"))
                    return try await connection.send(RedisCommand("GET", key)).string
                }
                #expect(onReplica == "\(5 * round)")
            }
            #expect(try await waits() == 20)
            // A script that only reads waits for nobody.
            #expect(try await redis.eval(read, keys: [key]).string == "100")
            #expect(try await waits() == 20)

            // With the replica frozen the wait times out: the write is answered (it is done on the
            // master) after the timeout, and is the kind a crash of the master now could lose.
            replica.signal(SIGSTOP)
            defer { replica.signal(SIGCONT) }
            let started = ContinuousClock.now
            #expect(try await redis.eval(write, keys: [key], arguments: ["1"]) == .integer(101))
            #expect(ContinuousClock.now - started >= .seconds(5))
        }
    }
}
