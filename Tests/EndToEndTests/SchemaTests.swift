import AsyncHTTPClient
import BetMaker
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The real processes on data this build does not understand: they refuse to run, and say why.
@Suite struct SchemaTests {
    @Test(arguments: ["betmaker-api", "betmaker-worker"])
    func aProcessRefusesDataOfAnotherSchemaVersion(_ executable: String) async throws {
        try await withRedis { (server, redis) async throws in
            _ = try await redis.set("bm:{g}:schema", to: "7")
            let (status, output) = try await BetMakerProcesses.run(
                executable, [], redis: server, settings: ["WEB_SERVER_PORT": "\(freeLoopbackPort())", "WORKER_HTTP_PORT": "0"])
            #expect(status != 0, "\(output)")
            #expect(output.contains("Refusing to run: Redis holds bet-maker data of storage schema 7"), "\(output)")
            #expect(try await redis.get("bm:{g}:schema") == "7")
        }
    }

    /// A key's shard depends on the count: a process configured with another count than the store's
    /// would read and write the wrong keys, so it refuses to start and names both counts.
    @Test(arguments: ["betmaker-api", "betmaker-worker"])
    func aProcessRefusesAStoreOfAnotherShardCount(_ executable: String) async throws {
        try await withRedis { (server, redis) async throws in
            _ = try await redis.set("bm:{g}:schema", to: String(StorageSchema.version))
            _ = try await redis.set("bm:{g}:schema:shards", to: "4")
            let (status, output) = try await BetMakerProcesses.run(
                executable, [], redis: server,
                settings: ["WEB_SERVER_PORT": "\(freeLoopbackPort())", "WORKER_HTTP_PORT": "0", "REDIS_SHARDS": "2"])
            #expect(status != 0, "\(output)")
            #expect(output.contains("Refusing to run: Redis holds bet-maker data split into 4 shards"), "\(output)")
            #expect(output.contains("REDIS_SHARDS=2") && output.contains("set REDIS_SHARDS=4"), "\(output)")
            #expect(try await redis.get("bm:{g}:schema:shards") == "4")
        }
    }

    @Test func anAPIOnAFreshStoreClaimsItAndServes() async throws {
        try await withBetMakerSystem { system in
            #expect(try await system.request(.POST, "/bets", json: #"{"event_id": "s", "amount": "1"}"#).status == 201)
            #expect(try await system.redis.get("bm:{g}:schema") == String(StorageSchema.version))
            let ready = try await system.get(system.operationsURL + "/health/ready")
            #expect(ready.status == 200 && ready.body.contains(#""storage_schema":"ok""#), "\(ready.body)")
        }
    }

    /// `make contract` and the browser tests seed an empty Redis before the API starts: the seed claims
    /// the store for this build, so the API then serves it.
    @Test func aSeedOnAnEmptyStoreClaimsItAndTheAPIThenServesIt() async throws {
        try await withRedis { (server, redis) async throws in
            let seeded = try await BetMakerProcesses.run("betmaker-api", ["seed"], redis: server)
            #expect(seeded.status == 0, "\(seeded.output)")
            #expect(try await redis.get("bm:{g}:schema") == String(StorageSchema.version))
            let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: server)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let events = try await http.execute(HTTPClientRequest(url: baseURL + "/events"), timeout: .seconds(30))
            #expect(events.status == .ok)
            try await http.shutdown()
            #expect(await api.stop() == 0, "\(api.output)")
        }
    }
}
