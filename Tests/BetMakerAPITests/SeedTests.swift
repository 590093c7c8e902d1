import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import TestSupport
import Testing

/// `betmaker-api seed` against the storage schema: `make contract` seeds a fresh Redis before it
/// starts the API, and the API refused what the seed had written there (no schema version).
@Suite struct SeedTests {
    @Test func seedingAnEmptyStoreClaimsItsSchemaSoTheAPIServesIt() async throws {
        try await withRedisServer { server in
            // The seed before the API starts, as in `make contract`.
            let settings = Settings.forTests(redis: server.configuration)
            try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
                try await Seed.run(settings: settings, redis: redis) { _ in }
                #expect(try await redis.get(settings.keys.schema) == String(StorageSchema.version))
            }
            let app = try await buildApplication(settings: settings, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let events = try await client.get("/events")
                #expect(events.status == .ok, "\(events.text)")
                #expect(events.text.contains("demo-derby"))
            }
        }
    }

    @Test func theSeedRefusesDataOfAnotherSchemaAndWritesNothing() async throws {
        try await withRedis { server, redis in
            let settings = Settings.forTests(redis: server.configuration)
            try await redis.set(settings.keys.schema, to: "7")
            await #expect(throws: SchemaGate.Refusal.self) { try await Seed.run(settings: settings, redis: redis) { _ in } }
            #expect(try await redis.get(settings.keys.userIDs) == nil)
            #expect(try await redis.get(settings.keys.schema) == "7")
        }
    }
}
