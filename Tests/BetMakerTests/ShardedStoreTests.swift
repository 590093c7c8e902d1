import BetMakerRuntime
import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// A store split into 4 shards (`REDIS_SHARDS`): events land in their shards, the listings that span
/// shards merge them, dead letters are named and re-driven by shard, and a process with another
/// count is refused. Against a real Redis, and the event scripts against a real Redis Cluster.
@Suite struct ShardedStoreTests {
    static let keys = RedisKeys(prefix: "s:", shards: 4)

    /// One event id in each shard, in shard order.
    static let events: [String] = {
        var found: [Int: String] = [:]
        var serial = 0
        while found.count < keys.shards {
            let id = "match-\(serial)"
            if found[keys.shard(of: id)] == nil { found[keys.shard(of: id)] = id }
            serial += 1
        }
        return keys.allShards.map { found[$0]! }
    }()

    @Test func anonymousBetsOfEveryShardAreListedNewestFirstInStablePages() async throws {
        try await withRedis { (_, redis) async throws in
            let store = BetStore(redis: redis, keys: Self.keys, ids: IDGenerator(node: 5))
            var placed: [BetID] = []
            for round in 0..<5 {
                // Shards take turns in a different order each round, so no list is simply next to another.
                for offset in 0..<Self.events.count {
                    let eventID = Self.events[(offset + round) % Self.events.count]
                    guard case .placed(let bet) = try await store.place(eventID: eventID, amount: Money(cents: 100)) else {
                        Issue.record("not placed")
                        return
                    }
                    placed.append(bet.id)
                }
            }
            for shard in Self.keys.allShards {
                #expect(try await redis.llen(Self.keys.allBets(shard: shard)) == 5)
                #expect(try await redis.exists([Self.keys.event(Self.events[shard])]) == 1)
                #expect(Self.keys.event(Self.events[shard]).hasPrefix("s:{sh:\(shard)}:{ev:"))
            }
            #expect(try await redis.exists(["s:bets"]) == 0, "no unsharded index")

            let first = try await store.list(.init(), scope: .anonymous, limit: 7, cursor: nil)
            #expect(first.bets.map(\.id) == Array(placed.reversed().prefix(7)))
            let cursor = try #require(first.nextCursor)
            #expect(cursor.split(separator: ".").count == 4)
            #expect(store.isValidCursor(cursor, filter: .init(), scope: .anonymous))
            #expect(!store.isValidCursor("7", filter: .init(), scope: .anonymous))
            #expect(store.isValidCursor("7", filter: .init(eventID: Self.events[0]), scope: .anonymous))
            // A bet placed meanwhile does not move the pages after the cursor.
            _ = try await store.place(eventID: Self.events[2], amount: Money(cents: 100))
            var rest: [BetID] = []
            var next: String? = cursor
            while let position = next {
                let page = try await store.list(.init(), scope: .anonymous, limit: 3, cursor: position)
                #expect(page.bets.count <= 3)
                rest += page.bets.map(\.id)
                next = page.nextCursor
            }
            #expect(rest == Array(placed.reversed().dropFirst(7)))

            // A status filter reads the merged order too: only the settled shard's bets are won.
            _ = try await store.report(eventID: Self.events[1], result: .win)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 100).settle(eventID: Self.events[1], result: .win)
            let won = try await store.list(.init(status: .won), scope: .anonymous, limit: 100, cursor: nil)
            #expect(won.bets.map(\.id) == placed.reversed().filter { $0.eventID == Self.events[1] })
            #expect(won.nextCursor == nil)
        }
    }

    @Test func theCatalogueOfEveryShardIsListedByStartTime() async throws {
        try await withRedis { (_, redis) async throws in
            let catalogue = CatalogueStore(redis: redis, keys: Self.keys)
            // Start times follow the order created; the ids fall into the shards by their hash.
            var expected: [String] = []
            for index in 0..<12 {
                let id = "cup-\(index)"
                expected.append(id)
                let event = CatalogueEvent(
                    id: id, title: id, homeTeam: "Home", awayTeam: "Away", startsAt: 1_900_000_000_000 + Int64(index) * 60_000,
                    odds: Odds(hundredths: 200), isOpen: index % 3 != 1)
                #expect(try await catalogue.create(event) == .created(event))
            }
            #expect(Set(expected.map(Self.keys.shard(of:))).count > 1)
            #expect(try await Self.pages(catalogue, openOnly: false) == expected)
            #expect(try await Self.pages(catalogue, openOnly: true) == expected.enumerated().filter { $0.offset % 3 != 1 }.map(\.element))
            // Each index holds only its shard's events.
            for shard in Self.keys.allShards {
                for member in try await redis.zrangeByLex(Self.keys.catalogue(shard: shard), min: .minimum, max: .maximum) {
                    #expect(Self.keys.shard(of: String(member.dropFirst(14))) == shard)
                }
            }
        }
    }

    static func pages(_ catalogue: CatalogueStore, openOnly: Bool) async throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            let page = try await catalogue.list(openOnly: openOnly, limit: 2, after: cursor)
            #expect(page.events.count <= 2)
            ids += page.events.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        return ids
    }

    @Test func deadLettersAreListedAcrossShardsAndReDrivenByTheirShardNamedID() async throws {
        try await withRedis { (_, redis) async throws in
            let store = BetStore(redis: redis, keys: Self.keys, ids: IDGenerator(node: 5))
            let queue = SettlementQueue(redis: redis, keys: Self.keys)
            for eventID in Self.events { #expect(try await store.report(eventID: eventID, result: .lose) == .reported) }
            for (shard, eventID) in Self.events.enumerated() {
                let entries = try await redis.xrange(Self.keys.eventsStream(shard: shard))
                #expect(entries.map { $0.fields?["event_id"] } == [eventID], "each result on its own shard's stream")
                try await redis.xgroupCreate(Self.keys.eventsStream(shard: shard), group: queue.group, startingAt: "0")
                _ = try await redis.xreadgroup(Self.keys.eventsStream(shard: shard), group: queue.group, consumer: "w", count: 10)
                try await queue.deadLetter(entries[0], shard: shard, reason: "given up", deliveries: 11, park: eventID)
                #expect(try await redis.zscore(Self.keys.unsettledEvents(shard: shard), eventID) == nil, "parked")
            }
            // Newest first across the shards, one a page.
            var letters: [DeadLetter] = []
            var cursor: String?
            repeat {
                let page = try await queue.deadLetters(limit: 1, before: cursor)
                letters += page.letters
                cursor = page.nextCursor
            } while cursor != nil
            #expect(letters.map(\.shard) == [3, 2, 1, 0])
            #expect(letters.map { $0.field("event_id") } == Self.events.reversed())
            for letter in letters { #expect(letter.id == "\(letter.shard):\(letter.streamID)") }
            let all = try await queue.deadLetters(limit: 10, before: nil)
            #expect(all.letters == letters && all.nextCursor == nil)

            let second = letters[2]  // shard 1's
            #expect(try await queue.retryDeadLetter(id: "9:" + second.streamID) == .missing, "no such shard")
            guard case .retried(let entryID, let eventID) = try await queue.retryDeadLetter(id: second.id) else {
                Issue.record("not re-driven")
                return
            }
            #expect(eventID == Self.events[1])
            let redriven = try await redis.xrange(Self.keys.eventsStream(shard: 1)).last
            #expect(redriven?.id == entryID && redriven?.fields?["redriven_from"] == second.entryID)
            #expect(try await redis.zscore(Self.keys.unsettledEvents(shard: 1), eventID) != nil)
            #expect(try await queue.retryDeadLetter(id: second.id) == .missing)
            #expect(try await queue.deadLetters(limit: 10, before: nil).letters.map(\.shard) == [3, 2, 0])
        }
    }

    @Test func aStoreKeepsItsShardCountAndRefusesAnother() async throws {
        try await withRedis { (_, redis) async throws in
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .current)
            #expect(try await redis.get(Self.keys.schemaShards) == "4")
            #expect(try await StorageSchema.check(redis: redis, keys: Self.keys) == .current)
            let other = RedisKeys(prefix: Self.keys.prefix, shards: 2)
            let verdict = try await StorageSchema.check(redis: redis, keys: other)
            #expect(verdict == .otherShards("4"))
            let refusal = try #require(StorageSchema.refusal(verdict, keys: other))
            #expect(refusal.contains("split into 4 shards") && refusal.contains("REDIS_SHARDS=2") && refusal.contains("REDIS_SHARDS=4"))
            #expect(try await redis.get(Self.keys.schemaShards) == "4", "left as it is")
        }
    }

    /// On Redis Cluster a script runs only when all its keys share a slot: each of these would be
    /// refused (`CROSSSLOT`) otherwise.
    @Test func theEventAndQueueScriptsEachTouchOneSlotOnACluster() async throws {
        try await withRedisCluster { cluster in
            try await RedisClient(configuration: cluster.configuration).withRunning { (redis) async throws in
                let store = BetStore(redis: redis, keys: Self.keys, ids: IDGenerator(node: 5))
                let catalogue = CatalogueStore(redis: redis, keys: Self.keys)
                let workflow = EventWorkflowStore(redis: redis, keys: Self.keys)
                let queue = SettlementQueue(redis: redis, keys: Self.keys)
                // A trader as `isActiveTrader` reads one (the users' scripts are not this test's).
                _ = try await redis.send(RedisCommand("HSET", Self.keys.user(7), "role", "trader", "status", "active"))
                for (shard, eventID) in Self.events.enumerated() {
                    let event = CatalogueEvent(
                        id: eventID, title: eventID, homeTeam: "H", awayTeam: "A", startsAt: currentMilliseconds() + 3_600_000,
                        odds: Odds(hundredths: 150), isOpen: true)
                    #expect(try await catalogue.create(event) == .created(event))
                    var changes = CatalogueStore.Changes()
                    changes.startsAt = event.startsAt + 60_000
                    guard case .updated = try await catalogue.update(id: eventID, changes) else {
                        Issue.record("not updated")
                        return
                    }
                    let key = IdempotencyKey(key: "k-\(shard)", fingerprint: eventID + "\n100")
                    guard case .placed = try await store.place(eventID: eventID, amount: Money(cents: 100), idempotency: key) else {
                        Issue.record("not placed")
                        return
                    }
                    #expect(try await workflow.assign(eventID: eventID, traderID: 7) == .changed)
                    #expect(try await workflow.take(eventID: eventID, traderID: 7) == .changed)
                    if shard == 0 {
                        #expect(try await workflow.void(eventID: eventID, reason: "rain") == .changed)
                    } else {
                        #expect(try await store.report(eventID: eventID, result: .win, by: .trader(7)) == .reported)
                    }
                    let stream = Self.keys.eventsStream(shard: shard)
                    try await redis.xgroupCreate(stream, group: queue.group, startingAt: "0")
                    let entries = try await redis.xreadgroup(stream, group: queue.group, consumer: "w", count: 10)
                    try await queue.deadLetter(entries[0], shard: shard, reason: "given up", deliveries: 11, park: eventID)
                    #expect(try await queue.requeueOverdue(shard: shard, after: .zero).isEmpty, "parked")
                    _ = try await queue.trim(shard: shard)
                }
                #expect(try await catalogue.list(openOnly: false, limit: 10, after: nil).events.count == Self.events.count)
                #expect(try await store.list(.init(), scope: .anonymous, limit: 10, cursor: nil).bets.count == Self.events.count)
                let letters = try await queue.deadLetters(limit: 10, before: nil).letters
                #expect(letters.count == Self.events.count)
                for letter in letters {
                    guard case .retried = try await queue.retryDeadLetter(id: letter.id) else {
                        Issue.record("\(letter.id) not re-driven")
                        continue
                    }
                }
                let extra = "extra-" + Self.events[3]
                let event = CatalogueEvent(
                    id: extra, title: extra, homeTeam: "H", awayTeam: "A", startsAt: currentMilliseconds() + 3_600_000,
                    odds: Odds(hundredths: 150), isOpen: true)
                #expect(try await catalogue.create(event) == .created(event))
                #expect(try await catalogue.delete(id: extra) == .deleted)
            }
        }
    }
}
