import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RedisClient
import TestSupport
import Testing

/// What operators see of the real processes: metrics, health, logs, request ids and limits.
@Suite(.serialized) struct OperationsTests {
    @Test func theAPIAndTheWorkerExportTheirMetrics() async throws {
        try await withSystem { system in
            let workerPort = try freeLoopbackPort()
            let worker = try await BetMakerProcesses.startWorker(
                redis: system.deployment, settings: ["WORKER_HTTP_PORT": "\(workerPort)"])
            #expect(await worker.waitForOutput(containing: "Server started and listening"))
            #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "m", "amount": "2.50"}"#).status == 201)
            #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "m", "amount": "-1"}"#).status == 422)
            #expect(try await system.request(.PUT, "/events/m", json: #"{"status": "WIN"}"#).status == 202)
            #expect(await eventually { try await system.request(.GET, "/events/m")["settled"] == .bool(true) })

            let api = try await system.get(system.operationsURL + "/metrics")
            #expect(api.status == 200)
            #expect(api.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
            let apiMetrics = Metrics(api.body)
            #expect(apiMetrics.value("bets_placed_total", ["kind": "anonymous"]) == 1)
            #expect(apiMetrics.value("bets_placed_total", ["kind": "wallet"]) == 0)
            #expect(apiMetrics.value("http_requests_total", ["route": "/bets", "method": "POST", "status": "201"]) == 1)
            #expect(apiMetrics.value("http_requests_total", ["route": "/bets", "method": "POST", "status": "422"]) == 1)
            #expect(apiMetrics.value("http_request_duration_seconds_count", ["route": "/bets", "method": "POST", "status": "201"]) == 1)
            #expect(apiMetrics.value("redis_commands_total", ["command": "EVALSHA"]).map { $0 >= 2 } == true)
            #expect(apiMetrics.value("events_stream_length") == 1)
            #expect(apiMetrics.value("events_stream_pending") == 0)
            #expect(apiMetrics.value("events_dead_letter_length") == 0)

            let workerURL = "http://127.0.0.1:\(workerPort)"
            let workerMetrics = Metrics(try await system.get(workerURL + "/metrics").body)
            #expect(workerMetrics.value("bets_settled_total", ["outcome": "won"]) == 1)
            #expect(workerMetrics.value("events_settled_total") == 1)
            #expect(workerMetrics.value("settlement_lag_seconds_count") == 1)
            // The worker's own Redis commands, which README lists for both processes: settling runs `settle_batch`.
            #expect(workerMetrics.value("redis_commands_total", ["command": "EVALSHA"]).map { $0 >= 1 } == true)
            #expect(try await system.get(workerURL + "/health/live").status == 200)
            #expect(try await system.get(workerURL + "/health/ready").status == 200)

            // The compose health check of the worker.
            let check = try ChildProcess(
                name: "betmaker-worker healthcheck", executable: try BetMakerProcesses.executable("betmaker-worker"),
                arguments: ["healthcheck", "--env-file", "/nonexistent/.env"],
                environment: ["PATH": "/usr/bin:/bin", "WORKER_HTTP_PORT": "\(workerPort)"])
            #expect(await check.waitForExit() == 0)
            #expect(await worker.stop() == 0)
        }
    }

    @Test func jsonLogsCarryTheRequestIDAndNoSecrets() async throws {
        try await withRedisServer { server in
            // A password Redis does not expect: the API still starts (and answers 503), and must not log it.
            var url = URLComponents(string: server.url)!
            url.password = "s3cret-pa55"
            let (api, baseURL) = try await BetMakerProcesses.startAPI(
                redis: server, settings: ["LOG_FORMAT": "json", "LOG_LEVEL": "debug", "REDIS_URL": url.string!])
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: baseURL + "/bets")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Request-Id", value: "trace-42")
            request.body = .bytes(ByteBuffer(string: #"{"event_id": "m", "amount": "1"}"#))
            let response = try await http.execute(request, timeout: .seconds(30))
            try await http.shutdown()
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers.first(name: "X-Request-Id") == "trace-42")
            #expect(await api.stop() == 0)

            let lines = api.output.split(separator: "\n").filter { !$0.isEmpty }
            #expect(!lines.isEmpty)
            for line in lines {
                guard case .object = try? JSONParser.parse(Array(line.utf8)) else {
                    Issue.record("not a JSON log line: \(line)")
                    continue
                }
            }
            #expect(lines.contains { $0.contains(#""hb.request.id":"trace-42""#) && $0.contains("Redis unavailable") })
            #expect(!api.output.contains("s3cret-pa55"))
        }
    }

    @Test func aClientThatStopsHalfwayThroughItsRequestIsDisconnected() async throws {
        try await withRedisServer { server in
            let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: server, settings: ["HTTP_IDLE_TIMEOUT_MS": "1000"])
            let port = Int(baseURL.split(separator: ":").last!)!
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let started = ContinuousClock.now
            let closedByServer = try await channel.executeThenClose { inbound, outbound in
                // Half a request head, then silence: the server must not wait for the rest forever.
                try await outbound.write(ByteBuffer(string: "POST /bets HTTP/1.1\r\nHost: x\r\nContent-Type: appl"))
                for try await _ in inbound {}
                return true
            }
            #expect(closedByServer)
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(await api.stop() == 0)
        }
    }

    @Test func oversizedHeadersAreRefused() async throws {
        try await withSystem { (system) async throws in
            var request = HTTPClientRequest(url: system.baseURL + "/bets")
            request.headers.add(name: "X-Padding", value: String(repeating: "a", count: 16 * 1024))
            let status = try? await system.http.execute(request, timeout: .seconds(30)).status
            // The server answers 431 or drops the connection; it never serves the request.
            #expect(status == nil || status == .requestHeaderFieldsTooLarge || status == .badRequest, "\(String(describing: status))")
            #expect(try await system.request(.GET, "/health/live").status == 200)
        }
    }
}

/// A Prometheus text page, looked up by name and labels.
struct Metrics {
    let lines: [Substring]

    init(_ text: String) {
        lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
    }

    /// The value of the sample called `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in lines {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            let seriesName = series.prefix { $0 != "{" }
            guard seriesName == name else { continue }
            if labels.allSatisfy({ series.contains(#"\#($0.key)="\#($0.value)""#) }) { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }
}
