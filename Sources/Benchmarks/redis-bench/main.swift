// Measures the Redis client against redis-benchmark in the same run, on the same server:
// SET, GET and EVALSHA with 50 concurrent callers, unpipelined and in batches of 16. Then the cluster
// section: the same client on one node and on a 3-master cluster, with its CPU per command.
// Usage: redis-bench [--requests N] [--clients C] [--pipeline P] [--ours-only] [--skip-cluster] [--cluster-only]
//                    [--only SET,GET,EVALSHA,1,16,one-master,one-tag,random,single,cluster]
//                    cluster section: [--rounds R] [--server PORT --cluster-seeds HOST:PORT,... (running servers)]
// `--only` narrows each group it names (commands, pipelines, cluster key layouts, cluster sides).
import Foundation
import RedisClient
import TestSupport

struct Options {
    var requests = 200_000
    var clients = 50
    var pipeline = 16
    var only: Set<String> = []
    var rounds = 1
    var server: Int?
    var clusterSeeds: [String] = []
    var skipReference = false
    var skipCluster = false
    var clusterOnly = false

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--ours-only" || flag == "--skip-cluster" || flag == "--cluster-only" {
                if flag == "--ours-only" { skipReference = true }
                if flag == "--skip-cluster" { skipCluster = true }
                if flag == "--cluster-only" { clusterOnly = true }
                continue
            }
            let text = iterator.next()
            let value = text.flatMap(Int.init)
            switch flag {
            case "--only": only = Set((text ?? "").split(separator: ",").map(String.init))
            case "--requests": requests = value ?? requests
            case "--clients": clients = value ?? clients
            case "--pipeline": pipeline = value ?? pipeline
            case "--rounds": rounds = value ?? rounds
            case "--server": server = value
            case "--cluster-seeds": clusterSeeds = (text ?? "").split(separator: ",").map(String.init)
            default: fatalError("unknown option \(flag)")
            }
        }
    }

    /// Whether `name`, one of `group`, is to be run: `--only` names it, or names none of `group`.
    func selects(_ name: String, among group: [String]) -> Bool {
        only.contains(name) || only.isDisjoint(with: group)
    }
}

let writeScript = RedisScript(
    name: "bench-write",
    source: "redis.call('HSET', KEYS[1], 'v', ARGV[1]); return redis.call('SADD', KEYS[2], ARGV[1])")

enum Workload: String, CaseIterable {
    case set = "SET"
    case get = "GET"
    case evalsha = "EVALSHA"

    func command(_ random: Int) -> RedisCommand {
        switch self {
        case .set: RedisCommand("SET", "key:\(random)", "xxx")
        case .get: RedisCommand("GET", "key:\(random)")
        case .evalsha: writeScript.evalshaCommand(keys: ["h:\(random)", "members"], arguments: ["\(random)"])
        }
    }

    /// The same command for redis-benchmark, which substitutes __rand_int__ itself.
    var benchmarkArguments: [String] {
        switch self {
        case .set: ["SET", "key:__rand_int__", "xxx"]
        case .get: ["GET", "key:__rand_int__"]
        case .evalsha: ["EVALSHA", writeScript.sha1, "2", "h:__rand_int__", "members", "__rand_int__"]
        }
    }
}

func redisBenchmark(port: Int, workload: Workload, options: Options, pipeline: Int) throws -> Double {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: try findExecutable("redis-benchmark"))
    process.arguments =
        ["-p", "\(port)", "-c", "\(options.clients)", "-n", "\(options.requests * pipeline)", "-r", "100000", "-P", "\(pipeline)", "--csv"]
        + workload.benchmarkArguments
    process.standardOutput = output
    try process.run()
    var data: [UInt8] = []
    _ = OutputReader.readToEnd(output.fileHandleForReading.fileDescriptor) { data += $0 }
    process.waitUntilExit()
    // CSV: "test","rps",... with the figure in the second column of the last line.
    let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last ?? ""
    let columns = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    guard columns.count > 1, let rate = Double(columns[1]) else {
        throw RedisError.protocolError("cannot read redis-benchmark output: \(line)")
    }
    return rate
}

struct XorShift: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

func client(_ redis: RedisClient, workload: Workload, options: Options, pipeline: Int) async throws -> Double {
    let total = options.requests * pipeline
    let perCaller = total / options.clients
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.clients {
            group.addTask {
                // As cheap as redis-benchmark's own random keys; the system generator is a syscall.
                var generator = XorShift(seed: UInt64.random(in: 1...UInt64.max))
                var done = 0
                while done < perCaller {
                    if pipeline == 1 {
                        _ = try await redis.send(workload.command(Int.random(in: 0..<100_000, using: &generator)))
                        done += 1
                    } else {
                        let batch = (0..<pipeline).map { _ in workload.command(Int.random(in: 0..<100_000, using: &generator)) }
                        for result in try await redis.pipeline(batch) { _ = try result.get() }
                        done += pipeline
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(perCaller * options.clients) / seconds
}

let options = Options(CommandLine.arguments)
// A synchronous main that waits for the work: an async main's thread leaves through dispatch_main,
// which valgrind (callgrind, for instruction counts) cannot follow.
let finished = DispatchSemaphore(value: 0)
Task.detached { [options] in
    do {
        if !options.clusterOnly {
            try await againstRedisBenchmark(options)
        }
        if !options.skipCluster {
            try await clusterSection(options)
        }
    } catch {
        FileHandle.standardError.write(Data("redis-bench: \(error)\n".utf8))
        exit(1)
    }
    finished.signal()
}
finished.wait()

func againstRedisBenchmark(_ options: Options) async throws {
    try await withRedisServer { server in
        let redis = RedisClient(configuration: server.configuration)
        try await redis.withRunning { redis in
            try await redis.load([writeScript])
            print(
                "redis-bench: \(options.clients) concurrent callers, \(options.requests) requests unpipelined, \(options.requests * options.pipeline) in batches of \(options.pipeline)"
            )
            print("| command | pipeline | redis-benchmark ops/s | RedisClient ops/s | ratio |")
            print("|---|---|---|---|---|")
            for pipeline in [1, options.pipeline] where options.selects("\(pipeline)", among: ["1", "\(options.pipeline)"]) {
                for workload in Workload.allCases where options.selects(workload.rawValue, among: Workload.allCases.map(\.rawValue)) {
                    let reference =
                        options.skipReference
                        ? Double.nan : try redisBenchmark(port: server.port, workload: workload, options: options, pipeline: pipeline)
                    let ours = try await client(redis, workload: workload, options: options, pipeline: pipeline)
                    print(
                        String(
                            format: "| %@ | %d | %.0f | %.0f | %.0f%% |", workload.rawValue, pipeline, reference, ours,
                            100 * ours / reference))
                }
            }
        }
    }
}
