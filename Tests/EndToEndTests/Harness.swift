import AsyncHTTPClient
import BetMaker
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// A running bet-maker: a fresh redis-server, the real API and worker processes, an HTTP client to
/// the API and a Redis client to look behind it.
struct System {
    let redisServer: RedisServer
    let redis: RedisClient
    let api: ChildProcess
    let baseURL: String
    let http: HTTPClient

    static let keys = RedisKeys(prefix: "bm:")

    struct Reply {
        let status: Int
        let body: String
        let headers: HTTPHeaders

        var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }

        subscript(_ key: String) -> JSONValue? {
            guard case .object(let members) = json else { return nil }
            return members.first { $0.key == key }?.value
        }

        var string: [String: String] {
            guard case .object(let members) = json else { return [:] }
            var result: [String: String] = [:]
            for member in members { if case .string(let text) = member.value { result[member.key] = text } }
            return result
        }
    }

    func request(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: String(buffer: body), headers: response.headers)
    }

    /// All bets on `eventID`, following the Link header through every page.
    func bets(onEvent eventID: String) async throws -> [[String: String]] {
        var result: [[String: String]] = []
        var next: String? = "/bets?event_id=\(eventID)&limit=1000"
        while let path = next {
            let page = try await request(.GET, path)
            guard page.status == 200, case .array(let bets) = page.json else { throw TestSupportError("listing failed: \(page.body)") }
            for case .object(let members) in bets {
                var bet: [String: String] = [:]
                for member in members { if case .string(let text) = member.value { bet[member.key] = text } }
                result.append(bet)
            }
            next = page.headers.first(name: "Link").flatMap { $0.split(separator: ">").first.map { String($0.dropFirst()) } }
        }
        return result
    }
}

/// Starts everything, runs `body`, and stops and removes it all again, also when `body` fails.
func withSystem(apiSettings: [String: String] = [:], _ body: (System) async throws -> Void) async throws {
    try await withRedisServer(appendOnly: true) { server in
        let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: server, settings: apiSettings)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
                try await body(System(redisServer: server, redis: redis, api: api, baseURL: baseURL, http: http))
            }
        } catch {
            try? await http.shutdown()
            await api.stop()
            print("betmaker-api output:\n\(api.output)")
            throw error
        }
        try await http.shutdown()
        await api.stop()
    }
}
