import Foundation
import RedisClient
import TestSupport

// The cluster section: the same pipelined workloads on one node and on a cluster of 3 masters (no
// replicas, a pool of 2 connections per master), measured alternately in the same run, with the
// client's CPU per command from /proc/self/stat (the servers are other processes). The bound
// is on routing, so the layouts differ in what else the cluster does:
// - one master: one hash tag a batch, every tag served by the same master, and the one node is that
//   master, in single-node mode. Both clients write and read on two connections to the same server
//   process; only routing differs. These are the rows the bound applies to.
// - one tag a batch over 3 masters: the product's calls spread over the cluster. The one node has six
//   connections, as many as the cluster, but each cluster connection carries a third of the batches,
//   so it wakes up for fewer commands at a time.
// - random keys over 3 masters: each batch is split into three writes and three reads.
// The script's two keys always share a tag so that one master can run it.

enum KeyLayout: String, CaseIterable {
    case oneMaster = "one-master"
    case oneTag = "one-tag"
    case random = "random"

    var label: String {
        switch self {
        case .oneMaster: "one tag a batch, one master"
        case .oneTag: "one tag a batch, 3 masters"
        case .random: "random keys, 3 masters"
        }
    }

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

/// Commands sent, wall-clock seconds and client CPU microseconds, summed over the rounds.
struct Measured {
    var commands = 0
    var seconds = 0.0
    var cpu = 0

    var rate: Double { Double(commands) / seconds }
    var cpuPerCommand: Double { Double(cpu) / Double(commands) }
}

/// `options.clients` callers sending batches of `options.pipeline`, each batch's tag drawn from `tags`.
func measure(
    _ redis: RedisClient, _ workload: Workload, _ layout: KeyLayout, tags: [Int], _ options: Options, into total: inout Measured
) async throws {
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
                    let batch = tags[Int.random(in: 0..<tags.count, using: &generator)]
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
    total.cpu += try processCPUMicroseconds() - cpuBefore
    total.seconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    total.commands += perCaller * options.clients
}

/// The master that serves slot 0, and the tag numbers whose slot it serves (from `CLUSTER SLOTS`:
/// start, end, master as host, port, id, then the replicas).
func oneMaster(of cluster: RedisClient) async throws -> (endpoint: RedisEndpoint, tags: [Int]) {
    let reply = try await cluster.send(RedisCommand("CLUSTER", "SLOTS")).array(for: "CLUSTER SLOTS")
    let ranges = try reply.compactMap { range -> (slots: ClosedRange<Int>, master: RedisEndpoint)? in
        let fields = try range.array(for: "CLUSTER SLOTS")
        guard fields.count > 2, case .integer(let start) = fields[0], case .integer(let end) = fields[1] else { return nil }
        let master = try fields[2].array(for: "CLUSTER SLOTS")
        guard master.count > 1, let host = master[0].string, case .integer(let port) = master[1] else { return nil }
        return (Int(start)...Int(end), RedisEndpoint(host: host, port: Int(port)))
    }
    guard let first = ranges.first(where: { $0.slots.contains(0) }) else { throw TestSupportError("no master serves slot 0") }
    let owned = ranges.filter { $0.master == first.master }.map(\.slots)
    let tags = (0..<100_000).filter { tag in
        let slot = HashSlot.of("{b:\(tag)}")
        return owned.contains { $0.contains(slot) }
    }
    return (first.master, tags)
}

/// One node and a 3-master cluster without replicas: the ones `--server` and `--cluster-seeds` name
/// (for valgrind, under which Foundation cannot start processes), else started here.
func withServers(_ options: Options, _ body: (RedisConfiguration, RedisConfiguration) async throws -> Void) async throws {
    if let port = options.server, !options.clusterSeeds.isEmpty {
        var server = RedisConfiguration()
        server.port = port
        var cluster = RedisConfiguration()
        cluster.cluster = RedisClusterOptions(seeds: try options.clusterSeeds.map { try RedisEndpoint(parsing: $0) })
        return try await body(server, cluster)
    }
    try await withRedisServer { server in
        try await withRedisCluster(masters: 3, replicasPerMaster: 0) { try await body(server.configuration, $0.configuration) }
    }
}

func clusterSection(_ options: Options) async throws {
    let workloads = Workload.allCases.filter { options.selects($0.rawValue, among: Workload.allCases.map(\.rawValue)) }
    let layouts = KeyLayout.allCases.filter { options.selects($0.rawValue, among: KeyLayout.allCases.map(\.rawValue)) }
    let sides = ["single", "cluster"].filter { options.selects($0, among: ["single", "cluster"]) }
    var single: [String: Measured] = [:]
    var cluster: [String: Measured] = [:]
    // Everything running at once, each workload measured on one node and right after on the cluster,
    // round after round, so a neighbour's load on this shared machine weighs on both alike.
    try await withServers(options) { server, nodes in
        try await RedisClient(configuration: nodes).withRunning { three in
            // The one-master rows' one node is that master itself, in single-node mode: the same server
            // process, connections and replies as the cluster client's, only the routing differs.
            let (master, oneMasterTags) = try await oneMaster(of: three)
            var onMaster = server
            (onMaster.host, onMaster.port) = (master.host, master.port)
            var sixConnections = server
            sixConnections.poolSize = 3 * nodes.poolSize
            try await RedisClient(configuration: onMaster).withRunning { one in
                try await RedisClient(configuration: sixConnections).withRunning { oneWithSix in
                    for redis in [one, oneWithSix, three] { try await redis.load([writeScript]) }
                    for round in 0..<options.rounds {
                        for layout in layouts {
                            let tags = layout == .oneMaster ? oneMasterTags : Array(0..<100_000)
                            for workload in workloads {
                                let name = "\(workload)\(layout)"
                                // Each side goes first every other round: the first after a switch meets
                                // the server's and the caches' state the other left.
                                for side in round.isMultiple(of: 2) ? sides : sides.reversed() {
                                    if side == "single" {
                                        let redis = layout == .oneMaster ? one : oneWithSix
                                        try await measure(
                                            redis, workload, layout, tags: tags, options, into: &single[name, default: Measured()])
                                    } else {
                                        try await measure(
                                            three, workload, layout, tags: tags, options, into: &cluster[name, default: Measured()])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    print("")
    print(
        "redis-bench cluster: \(options.clients) concurrent callers, \(options.requests * options.pipeline) requests in batches of "
            + "\(options.pipeline) per row and round, \(options.rounds) rounds; client CPU in µs per command")
    print("3 masters with 2 connections each. The bound (cluster CPU at most 110% of one node's) is on the one-master rows:")
    print("there one node is that master, in single-node mode, with 2 connections: the same server work, only routing differs.")
    print("Other rows: one node is a server of its own with 6 connections.")
    print("| command | keys | one node ops/s | cluster ops/s | one node CPU/cmd | cluster CPU/cmd | cluster CPU / one node |")
    print("|---|---|---|---|---|---|---|")
    for layout in layouts {
        for workload in workloads {
            let one = single["\(workload)\(layout)"] ?? Measured(commands: 1, seconds: .nan, cpu: 0)
            let three = cluster["\(workload)\(layout)"] ?? Measured(commands: 1, seconds: .nan, cpu: 0)
            print(
                String(
                    format: "| %@ | %@ | %.0f | %.0f | %.2f | %.2f | %.0f%% |", workload.rawValue, layout.label, one.rate, three.rate,
                    one.cpuPerCommand, three.cpuPerCommand, 100 * three.cpuPerCommand / one.cpuPerCommand))
        }
    }
}
