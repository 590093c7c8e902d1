import Foundation
import RedisClient
import TestSupport

// The cluster section: the same pipelined workloads on one node and on a cluster of 3 masters (no
// replicas), one after the other in the same run, with the client's CPU per command from
// /proc/self/stat (the servers are other processes). Two key layouts: random keys, so that each
// batch of 16 is split over the 3 masters, and one hash tag per batch, as the product's calls are
// (every key of a script, and of an in-order batch, in one slot): there routing is all the cluster
// adds. The script's two keys always share a tag so that one master can run it.

enum KeyLayout: String, CaseIterable {
    case random = "random keys"
    case oneSlot = "one slot a batch"

    /// Command `index` of a batch whose tag number is `batch`.
    func command(_ workload: Workload, random: Int, batch: Int) -> RedisCommand {
        let key = self == .random ? "key:\(random)" : "{b:\(batch)}:\(random)"
        let tag = self == .random ? "{h:\(random)}" : "{b:\(batch)}:h:\(random)"
        switch workload {
        case .set: return RedisCommand("SET", key, "xxx")
        case .get: return RedisCommand("GET", key)
        case .evalsha: return writeScript.evalshaCommand(keys: [tag, tag + ":members"], arguments: ["\(random)"])
        }
    }
}

/// utime + stime of this process, fields 14 and 15 of /proc/self/stat, in microseconds.
func processCPUMicroseconds() throws -> Int {
    let stat = try String(contentsOfFile: "/proc/self/stat", encoding: .utf8)
    guard let close = stat.lastIndex(of: ")") else { throw TestSupportError("/proc/self/stat has no command name") }
    // After the command name come fields 3, 4, ...: utime (14) and stime (15) are the 12th and 13th.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
        throw TestSupportError("/proc/self/stat has no utime and stime")
    }
    return (user + system) * 1_000_000 / sysconf(Int32(_SC_CLK_TCK))
}

/// Ops/s and the client's CPU microseconds per command, `options.clients` callers sending batches of
/// `options.pipeline`.
func measure(
    _ redis: RedisClient, _ workload: Workload, _ layout: KeyLayout, _ options: Options
) async throws -> (rate: Double, cpu: Double) {
    let pipeline = options.pipeline
    let perCaller = options.requests * pipeline / options.clients
    let cpuBefore = try processCPUMicroseconds()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.clients {
            group.addTask {
                var generator = XorShift(seed: UInt64.random(in: 1...UInt64.max))
                var done = 0
                while done < perCaller {
                    let batch = Int.random(in: 0..<100_000, using: &generator)
                    let commands = (0..<pipeline).map { _ in
                        layout.command(workload, random: Int.random(in: 0..<100_000, using: &generator), batch: batch)
                    }
                    for result in try await redis.pipeline(commands) { _ = try result.get() }
                    done += pipeline
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let cpu = try processCPUMicroseconds() - cpuBefore
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let commands = Double(perCaller * options.clients)
    return (commands / seconds, Double(cpu) / commands)
}

func clusterSection(_ options: Options) async throws {
    let workloads = Workload.allCases.filter { options.only.isEmpty || options.only.contains($0.rawValue) }
    var single: [String: (rate: Double, cpu: Double)] = [:]
    var cluster: [String: (rate: Double, cpu: Double)] = [:]
    // Both running at once, each workload measured on one node and right after on the cluster, so a
    // neighbour's load on this shared machine weighs on both alike.
    try await withRedisServer { server in
        try await withRedisCluster(masters: 3, replicasPerMaster: 0) { nodes in
            try await RedisClient(configuration: server.configuration).withRunning { one in
                try await RedisClient(configuration: nodes.configuration).withRunning { three in
                    try await one.load([writeScript])
                    try await three.load([writeScript])
                    for layout in KeyLayout.allCases {
                        for workload in workloads {
                            single["\(workload)\(layout)"] = try await measure(one, workload, layout, options)
                            cluster["\(workload)\(layout)"] = try await measure(three, workload, layout, options)
                        }
                    }
                }
            }
        }
    }
    print("")
    print(
        "redis-bench cluster: \(options.clients) concurrent callers, \(options.requests * options.pipeline) requests in batches of "
            + "\(options.pipeline), one node beside 3 masters (a pool of 2 connections per node); client CPU in µs per command")
    print("| command | keys | one node ops/s | cluster ops/s | one node CPU/cmd | cluster CPU/cmd | cluster CPU / one node |")
    print("|---|---|---|---|---|---|---|")
    for layout in KeyLayout.allCases {
        for workload in workloads {
            guard let one = single["\(workload)\(layout)"], let three = cluster["\(workload)\(layout)"] else { continue }
            print(
                String(
                    format: "| %@ | %@ | %.0f | %.0f | %.2f | %.2f | %.0f%% |", workload.rawValue, layout.rawValue, one.rate, three.rate,
                    one.cpu, three.cpu, 100 * three.cpu / one.cpu))
        }
    }
}
