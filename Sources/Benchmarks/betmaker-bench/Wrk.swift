import Foundation
import TestSupport

// wrk runs and their table rows, for every section of `make bench` that loads the API over HTTP.

struct WrkResult {
    let requests: Int
    let seconds: Double
    let errors: Int
    let p50: Double
    let p99: Double
    /// CPU per request of the API and of Redis during the run.
    var cpu: CPUPerUnit
    var rate: Double { Double(requests) / seconds }
}

/// Runs wrk with a Lua script whose `done` prints the figures as one line of text, reading the CPU the
/// processes of `cpu` spent meanwhile.
func wrk(
    _ url: String, method: String = "GET", body: String? = nil, headers: [String: String] = [:], cpu: CPUProbe, options: Options
) async throws -> WrkResult {
    var lua = """
        wrk.method = "\(method)"
        wrk.headers["Content-Type"] = "application/json"

        """
    for (name, value) in headers { lua += "wrk.headers[\"\(name)\"] = \"\(value)\"\n" }
    if let body { lua += "wrk.body = '\(body)'\n" }
    return try await wrk(url, lua: lua, seconds: options.duration, connections: options.connections, cpu: cpu)
}

func wrk(_ url: String, lua requestScript: String, seconds: Int, connections: Int, cpu: CPUProbe) async throws -> WrkResult {
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).lua")
    let lua =
        requestScript + """
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
                e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
            end

            """
    try lua.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    let (output, usage) = try await cpu.measure(per: requestCount) {
        try runWrk(url, script: script.path, seconds: seconds, connections: connections)
    }
    let numbers = try resultNumbers(output)
    return WrkResult(
        requests: Int(numbers[0]), seconds: numbers[1] / 1e6, errors: Int(numbers[2]), p50: numbers[3] / 1000, p99: numbers[4] / 1000,
        cpu: usage)
}

/// wrk's output, to its end.
func runWrk(_ url: String, script: String, seconds: Int, connections: Int) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try findExecutable("wrk"))
    process.arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "-s", script, url]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    var output: [UInt8] = []
    _ = OutputReader.readToEnd(pipe.fileHandleForReading.fileDescriptor) { output += $0 }
    process.waitUntilExit()
    return String(decoding: output, as: UTF8.self)
}

/// The numbers of the `RESULT` line the script's `done` printed: requests, µs, errors, p50 and p99 µs.
func resultNumbers(_ output: String) throws -> [Double] {
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }) else {
        throw TestSupportError("wrk printed no result:\n\(output)")
    }
    return line.split(separator: " ").dropFirst().compactMap { Double($0) }
}

/// How many requests wrk's output reports (0 if none: `resultNumbers` reports that).
func requestCount(_ output: String) -> Int { Int((try? resultNumbers(output))?.first ?? 0) }

/// The header of the tables `row` writes.
let wrkHeader = [
    "| endpoint | req/s | of no-op | API µs CPU / req | of no-op | Redis µs CPU / req | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|---|---|---|",
]

func row(_ name: String, _ result: WrkResult, baseline: WrkResult? = nil) -> String {
    let ratio = baseline.map { String(format: "%.0f%%", 100 * result.rate / $0.rate) } ?? "-"
    let cpuRatio = baseline.map { String(format: "%.2f×", result.cpu.process / max(0.001, $0.cpu.process)) } ?? "-"
    return String(
        format: "| %@ | %.0f | %@ | %.0f | %@ | %.0f | %.2f | %.2f | %d |", name, result.rate, ratio, result.cpu.process, cpuRatio,
        result.cpu.redis, result.p50, result.p99, result.errors)
}
