import Foundation
import RedisClient
import TestSupport

/// CPU time per request of the process under test and of Redis, beside req/s. On two shared cores
/// req/s moves by 20% between runs while CPU per request barely moves, so the targets of issue 15 are
/// read from these columns.
struct CPUPerUnit {
    /// Microseconds of CPU (user + system) the process under test spent per request (or per bet).
    let process: Double
    /// Microseconds of CPU Redis spent per request (or per bet).
    let redis: Double
}

/// The processes whose CPU a measurement reads: the API (or the worker), and redis-server, or every
/// master of a cluster (their CPU summed).
struct CPUProbe: Sendable {
    let process: Int32
    let redis: [Int32]

    /// The probe for `process` against the Redis that `redis` is connected to (its pid from `INFO server`).
    static func of(_ process: Int32, redis: RedisClient) async throws -> CPUProbe {
        guard let pid = try await redis.infoFields("server")["process_id"].flatMap({ Int32($0) }) else {
            throw TestSupportError("INFO server has no process_id")
        }
        return CPUProbe(process: process, redis: [pid])
    }

    /// The probe for `process` against every master of `cluster`.
    static func of(_ process: Int32, cluster: RedisCluster) async throws -> CPUProbe {
        var pids: [Int32] = []
        for master in try await cluster.masters() {
            let info = try await cluster.send(RedisCommand("INFO", "server"), to: master).string(for: "INFO")
            guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("process_id:") }),
                let pid = Int32(line.dropFirst("process_id:".count))
            else { throw TestSupportError("INFO server of port \(master.port) has no process_id") }
            pids.append(pid)
        }
        return CPUProbe(process: process, redis: pids)
    }

    /// Runs `body` and returns its result with the CPU both processes spent during it, divided by
    /// `units(result)` (requests, bets).
    nonisolated(nonsending) func measure<Result>(
        per units: (Result) -> Int, _ body: () async throws -> Result
    ) async throws -> (Result, CPUPerUnit) {
        let before = (try Self.cpuMicroseconds(process), try redis.reduce(0) { $0 + (try Self.cpuMicroseconds($1)) })
        let result = try await body()
        let after = (try Self.cpuMicroseconds(process), try redis.reduce(0) { $0 + (try Self.cpuMicroseconds($1)) })
        let count = Double(max(1, units(result)))
        return (result, CPUPerUnit(process: Double(after.0 - before.0) / count, redis: Double(after.1 - before.1) / count))
    }

    /// utime + stime of `pid`, fields 14 and 15 of `/proc/<pid>/stat`, in microseconds. The fields are
    /// counted after the `)` that ends field 2, the command name, which may itself hold spaces.
    static func cpuMicroseconds(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { throw TestSupportError("/proc/\(pid)/stat has no command name") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (the state), so field n is fields[n - 3].
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw TestSupportError("/proc/\(pid)/stat has no utime and stime")
        }
        return (user + system) * 1_000_000 / sysconf(Int32(_SC_CLK_TCK))
    }
}
