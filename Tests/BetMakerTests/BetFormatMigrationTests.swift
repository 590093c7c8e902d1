import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// An installation upgraded in place: bets stored as hashes, the format before each bet became one
/// string (`RedisKeys.bet`), are read, settled and converted, and the store stays sound throughout.
@Suite struct BetFormatMigrationTests {
    static let keys = InvariantCheckerTests.keys

    /// Rewrites every bet of the fixture as the hash it was stored as before: the same fields by name,
    /// the status spelled out. Returns the bet keys.
    static func storeAsHashes(_ fixture: InvariantCheckerTests.Fixture) async throws -> [String] {
        let names: [String: String] = ["p": "pending", "w": "won", "l": "lost", "v": "void"]
        var betKeys: [String] = []
        for id in fixture.ids.values.joined() {
            let key = keys.bet(id)
            var fields = try await fixture.redis.storedBet(key)
            #expect(!fields.isEmpty, "\(key) is not a stored bet")
            fields["status"] = fields["status"].flatMap { names[$0] }
            _ = try await fixture.redis.del([key])
            _ = try await fixture.redis.send(RedisCommand("HSET", arguments: [key] + fields.flatMap { [$0.key, $0.value] }))
            betKeys.append(key)
        }
        return betKeys
    }

    /// The bet keys that are still hashes.
    static func hashes(_ redis: RedisClient) async throws -> Set<String> {
        var found = Set<String>()
        var cursor = "0"
        repeat {
            let page = try await redis.send(RedisCommand("SCAN", cursor, "MATCH", keys.bet("") + "*", "TYPE", "hash")).array(for: "SCAN")
            cursor = try page[0].string(for: "SCAN")
            found.formUnion(try page[1].strings(for: "SCAN"))
        } while cursor != "0"
        return found
    }

    @Test func hashesAreReadSettledAndConvertedAndTheStoreStaysClean() async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await InvariantCheckerTests.fixture(redis)
            let store = BetStore(redis: redis, keys: Self.keys, ids: BetIDGenerator(node: 4))
            let allIDs = Array(fixture.ids.values.joined())
            let before = try await store.bets(ids: allIDs)
            let listedBefore = try await store.list(.init(eventID: "open"), scope: .anonymous, limit: 100, cursor: nil)
            #expect(before.count == InvariantCheckerTests.totalBets)

            let betKeys = try await Self.storeAsHashes(fixture)
            #expect(try await Self.hashes(redis) == Set(betKeys))

            // Read through the fallback: the same bets, the same listing, a clean store.
            #expect(try await store.bets(ids: allIDs) == before)
            #expect(try await store.bet(id: fixture.id("cat-win")) == before.first { $0.id == fixture.id("cat-win") })
            #expect(try await store.list(.init(eventID: "open"), scope: .anonymous, limit: 100, cursor: nil) == listedBefore)
            let onHashes = try await InvariantCheckerTests.check(redis)
            #expect(onHashes.isClean, "\(onHashes.violations)")
            #expect(onHashes.bets == InvariantCheckerTests.totalBets)

            // Settled while still hashes: the rest of "partly", and the open event with money, won.
            let settler = Settler(redis: redis, keys: Self.keys, batchSize: 2)
            let partly = try await settler.settle(eventID: "partly", result: .win)
            #expect(partly.won == 12)
            #expect(try await store.report(eventID: "cat-open", result: .win) == .reported)
            let catOpen = try await settler.settle(eventID: "cat-open", result: .win)
            #expect(catOpen.won == 1 && catOpen.paidOut == Money(cents: 150))
            #expect(try await redis.get(fixture.bet("cat-open")).map { $0.hasPrefix("w ") } == true, "settling wrote a string")
            let settled = try await InvariantCheckerTests.check(redis)
            #expect(settled.isClean, "\(settled.violations)")

            // Converted: no hash left, every bet reads as before (or as settled since), still clean.
            let remaining = try await Self.hashes(redis)
            let migration = BetFormatMigration(redis: redis, keys: Self.keys, batchSize: 5)
            let report = try await migration.run()
            #expect(report == .init(converted: remaining.count, kept: []))
            #expect(try await Self.hashes(redis).isEmpty)
            #expect(try await store.list(.init(eventID: "open"), scope: .anonymous, limit: 100, cursor: nil) == listedBefore)
            let after = try await store.bets(ids: allIDs)
            for bet in after {
                let old = try #require(before.first { $0.id == bet.id })
                if bet.eventID == "partly" || bet.eventID == "cat-open" {
                    #expect(bet.status == .won && bet.settledAt != nil && bet.asPlaced == old.asPlaced)
                } else {
                    #expect(bet == old)
                }
            }
            let converted = try await InvariantCheckerTests.check(redis)
            #expect(converted.isClean, "\(converted.violations)")
            #expect(try await migration.run() == .init(converted: 0, kept: []), "a second run finds nothing")
        }
    }

    /// A hash that cannot be packed without loss stays as it is, is named, and the checker says why.
    @Test func aDamagedHashIsKeptNamedAndReported() async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await InvariantCheckerTests.fixture(redis)
            let betKeys = try await Self.storeAsHashes(fixture)
            let victim = fixture.bet("open", 1)
            _ = try await redis.send(RedisCommand("HSET", victim, "amount", "12 50"))

            let report = try await BetFormatMigration(redis: redis, keys: Self.keys).run()
            #expect(report == .init(converted: betKeys.count - 1, kept: [victim]))
            #expect(try await Self.hashes(redis) == [victim])
            let check = try await InvariantCheckerTests.check(redis)
            let lines = check.violations.filter { $0.key == victim }.map(\.description)
            #expect(lines.contains { $0.contains("12 50") }, "\(check.violations)")
        }
    }

    /// Two workers starting at once convert each bet once, and fail nothing.
    @Test func twoMigrationsAtOnceConvertEachBetOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await InvariantCheckerTests.fixture(redis)
            let betKeys = try await Self.storeAsHashes(fixture)
            async let first = BetFormatMigration(redis: redis, keys: Self.keys, batchSize: 3).run()
            async let second = BetFormatMigration(redis: redis, keys: Self.keys, batchSize: 7).run()
            let reports = try await [first, second]
            #expect(reports.map(\.converted).reduce(0, +) == betKeys.count)
            #expect(try await Self.hashes(redis).isEmpty)
            #expect(try await InvariantCheckerTests.check(redis).isClean)
        }
    }

    /// The worker converts at start-up, by itself.
    @Test func theWorkerConvertsAtStartUp() async throws {
        try await withRedis { (server, redis) async throws in
            let fixture = try await InvariantCheckerTests.fixture(redis)
            let betKeys = try await Self.storeAsHashes(fixture)
            let worker = try await BetMakerProcesses.startWorker(redis: server, settings: ["KEY_PREFIX": Self.keys.prefix])
            #expect(await worker.waitForOutput(containing: "Bets stored as hashes converted to strings"), "\(worker.output)")
            #expect(worker.output.contains("converted=\(betKeys.count)"), "\(worker.output)")
            #expect(try await Self.hashes(redis).isEmpty)
            #expect(await worker.stop() == 0)
            #expect(try await InvariantCheckerTests.check(redis).isClean)
        }
    }
}
