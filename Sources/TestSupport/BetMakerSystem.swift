import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient

/// A running bet-maker, for the end-to-end and fault tests: a fresh redis-server (or Redis Cluster,
/// `RedisDeploymentMode`), the real API and worker processes, an HTTP client to the API and a Redis
/// client to look behind it.
public struct BetMakerSystem: Sendable {
    /// Where the processes under test find Redis: pass it to `BetMakerProcesses`.
    public let deployment: any RedisDeployment
    public let redis: RedisClient
    public let api: ChildProcess
    public let baseURL: String
    public let http: HTTPClient

    /// The keys of a system with the test processes' shard count (`BetMakerProcesses.testShards`).
    public static var keys: RedisKeys { RedisKeys(prefix: "bm:", shards: BetMakerProcesses.testShards) }
    /// The keys of this system: its own shard count when the test named one.
    public let keys: RedisKeys

    init(deployment: any RedisDeployment, redis: RedisClient, api: ChildProcess, baseURL: String, http: HTTPClient, keys: RedisKeys) {
        self.deployment = deployment
        self.redis = redis
        self.api = api
        self.baseURL = baseURL
        self.http = http
        self.keys = keys
    }

    /// The one redis-server, for tests that stop, restart or fill it (the fault suite runs on one server).
    public var redisServer: RedisServer {
        guard let server = deployment as? RedisServer else { preconditionFailure("this test needs one redis-server, not a cluster") }
        return server
    }

    /// Where the API answers `/health/*` and `/metrics` (its operations port).
    public var operationsURL: String { BetMakerProcesses.operationsURL(of: api) ?? baseURL }

    public struct Reply: Sendable {
        public let status: Int
        public let body: String
        public let headers: HTTPHeaders

        public init(status: Int, body: String, headers: HTTPHeaders) {
            self.status = status
            self.body = body
            self.headers = headers
        }

        public var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }

        public subscript(_ key: String) -> JSONValue? {
            guard case .object(let members) = json else { return nil }
            return members.first { $0.key == key }?.value
        }

        public var string: [String: String] {
            guard case .object(let members) = json else { return [:] }
            var result: [String: String] = [:]
            for member in members { if case .string(let text) = member.value { result[member.key] = text } }
            return result
        }
    }

    public func request(_ method: HTTPMethod, _ path: String, json: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        try await request(method, url: baseURL + path, json: json, headers: headers)
    }

    /// A request with an access token.
    public func request(_ method: HTTPMethod, _ path: String, json: String? = nil, token: String) async throws -> Reply {
        try await request(method, url: baseURL + path, json: json, headers: [("Authorization", "Bearer " + token)])
    }

    /// A GET of a full URL (another process's port).
    public func get(_ url: String) async throws -> Reply {
        try await request(.GET, url: url)
    }

    public func request(_ method: HTTPMethod, url: String, json: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: String(buffer: body), headers: response.headers)
    }

    /// All bets on `eventID`, following the Link header through every page.
    public func bets(onEvent eventID: String) async throws -> [[String: String]] {
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

/// Starts everything, runs `body`, and stops and removes it all again, also when `body` fails. With
/// `BETMAKER_TEST_REDIS=cluster` it runs on a Redis Cluster of three masters (`redisArguments` apply to
/// one server only).
nonisolated(nonsending) public func withBetMakerSystem(
    apiSettings: [String: String] = [:], redisArguments: [String] = [], apiUser: BetMakerProcesses.User = .inherited,
    _ body: (BetMakerSystem) async throws -> Void
) async throws {
    switch RedisDeploymentMode.current {
    case .server:
        try await withRedisServer(appendOnly: true, extraArguments: redisArguments) { server in
            try await withBetMakerSystem(on: server, apiSettings: apiSettings, apiUser: apiUser, body)
        }
    case .cluster:
        try await withRedisCluster(masters: 3, replicasPerMaster: 0) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: apiSettings, apiUser: apiUser, body)
        }
    }
}

/// The same on a Redis the test started itself (a cluster with replicas, for the fault suite).
nonisolated(nonsending) public func withBetMakerSystem(
    on deployment: any RedisDeployment, apiSettings: [String: String] = [:], apiUser: BetMakerProcesses.User = .inherited,
    _ body: (BetMakerSystem) async throws -> Void
) async throws {
    let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: deployment, settings: apiSettings, as: apiUser)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        try await RedisClient(configuration: deployment.configuration).withRunning { (redis) async throws in
            // Tests also write through the stores directly: claim the store's schema as the API's
            // first request would (`StorageSchema`), so that whichever writes first, it is versioned.
            let shards = apiSettings["REDIS_SHARDS"].flatMap { Int($0) } ?? BetMakerProcesses.testShards
            let keys = RedisKeys(prefix: BetMakerSystem.keys.prefix, shards: shards)
            _ = try await StorageSchema.check(redis: redis, keys: keys)
            try await body(BetMakerSystem(deployment: deployment, redis: redis, api: api, baseURL: baseURL, http: http, keys: keys))
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
