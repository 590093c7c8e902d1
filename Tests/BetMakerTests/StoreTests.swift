import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The scripts and the store against a real Redis.
@Suite struct StoreTests {
    static let keys = RedisKeys(prefix: "t:")

    static func store(_ redis: RedisClient) -> BetStore {
        BetStore(redis: redis, keys: keys, ids: IDGenerator(node: 1))
    }

    /// A bet's id is its event and a serial, `<event>~<serial>`; anything else is no bet id.
    @Test func betIDsNameTheirEvent() throws {
        let id = try #require(BetID("nba:2026-11-22:LAL-BOS~0K3M4T7QH2XA"))
        #expect(id.eventID == "nba:2026-11-22:LAL-BOS" && id.serial == "0K3M4T7QH2XA")
        #expect(id.description == "nba:2026-11-22:LAL-BOS~0K3M4T7QH2XA")
        #expect(Self.keys.bet(id) == "t:{sh:0}:{ev:nba:2026-11-22:LAL-BOS}:bet:0K3M4T7QH2XA")
        for text in ["0K3M4T7QH2XA", "m~0K3M4T7QH2X", "m~0K3M4T7QH2XU", "~0K3M4T7QH2XA", "m/1~0K3M4T7QH2XA", "a~b~0K3M4T7QH2XA", ""] {
            #expect(BetID(text) == nil, "\(text)")
        }
    }

    @Test func placesABetIntoEveryIndex() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            guard case .placed(let bet) = try await store.place(eventID: "match-1", amount: Money(cents: 1050)) else {
                Issue.record("not placed")
                return
            }
            #expect(bet.status == .pending)
            #expect(try await store.bet(id: bet.id) == bet)
            // A hash with the fields by name, as the design card has it; the event's list holds its serial.
            #expect(
                try await redis.hgetall(Self.keys.bet(bet.id)) == [
                    "status": "pending", "amount": "1050", "created_at": "\(bet.createdAt)", "event_id": "match-1",
                ])
            #expect(try await redis.send(RedisCommand("OBJECT", "ENCODING", Self.keys.bet(bet.id))).string == "listpack")
            #expect(try await redis.lrange(Self.keys.eventBets("match-1"), 0, -1) == [bet.id.serial])
            #expect(try await redis.lrange(Self.keys.allBets(shard: 0), 0, -1) == ["match-1~\(bet.id.serial)"])
            let event = try await store.event(id: "match-1")
            #expect(event.bets == 1 && event.pending == 1 && event.staked == Money(cents: 1050) && event.result == nil)
            #expect(try await store.bet(id: BetID(eventID: "match-1", serial: "000000000000")) == nil)
        }
    }

    @Test func refusesABetOnAnEventWithAResult() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            #expect(try await store.report(eventID: "m", result: .win) == .reported)
            #expect(try await store.place(eventID: "m", amount: Money(cents: 100)) == .eventClosed(.win))
            #expect(try await redis.llen(Self.keys.eventBets("m")) == 0)
            #expect(try await store.event(id: "m").bets == 0)
        }
    }

    @Test func reportsAResultOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            #expect(try await store.report(eventID: "m", result: .lose) == .reported)
            #expect(try await store.report(eventID: "m", result: .lose) == .unchanged)
            #expect(try await store.report(eventID: "m", result: .win) == .conflict(current: .lose))
            let entries = try await redis.xrange(Self.keys.eventsStream(shard: 0))
            #expect(entries.count == 1)
            #expect(entries.first?.fields?["event_id"] == "m")
            #expect(entries.first?.fields?["result"] == "LOSE")
            #expect(try await store.event(id: "m").result == .lose)
        }
    }

    @Test func replaysAnIdempotentRequestAndRefusesAReusedKey() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            let key = IdempotencyKey(key: "k-1", fingerprint: "e\n100")
            guard case .placed(let bet) = try await store.place(eventID: "e", amount: Money(cents: 100), idempotency: key) else {
                Issue.record("not placed")
                return
            }
            #expect(
                try await store.place(eventID: "e", amount: Money(cents: 100), idempotency: key)
                    == .replayed(bet))
            let other = IdempotencyKey(key: "k-1", fingerprint: "e\n200")
            #expect(try await store.place(eventID: "e", amount: Money(cents: 200), idempotency: other) == .idempotencyKeyReused)
            #expect(try await store.event(id: "e").bets == 1)
            let ttl = try await redis.send(RedisCommand("PTTL", Self.keys.betIdempotency(shard: 0, sha256Hex("k-1")))).int(for: "PTTL")
            #expect(ttl > 23 * 3600 * 1000 && ttl <= 24 * 3600 * 1000)
        }
    }

    @Test func listsNewestFirstWithFiltersAndCursors() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            var placed: [Bet] = []
            for index in 0..<25 {
                if case .placed(let bet) = try await store.place(eventID: index % 2 == 0 ? "even" : "odd", amount: Money(cents: 100)) {
                    placed.append(bet)
                }
            }
            // Else the comparisons below could hold for an empty listing.
            #expect(placed.count == 25)
            #expect(try await store.report(eventID: "odd", result: .win) == .reported)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 5).settle(eventID: "odd", result: .win)

            // All bets, newest first, in pages of 10.
            var seen: [BetID] = []
            var cursor: String?
            repeat {
                let page = try await store.list(.init(), scope: .anonymous, limit: 10, cursor: cursor)
                seen += page.bets.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == placed.reversed().map(\.id))

            let won = try await store.list(.init(status: .won), scope: .anonymous, limit: 100, cursor: nil)
            #expect(won.bets.map(\.id) == placed.filter { $0.eventID == "odd" }.reversed().map(\.id))
            #expect(won.bets.allSatisfy { $0.status == .won && $0.settledAt != nil })
            #expect(won.nextCursor == nil)

            // Within one event, with a cursor that stays put while bets are added.
            let first = try await store.list(.init(eventID: "even"), scope: .anonymous, limit: 5, cursor: nil)
            #expect(first.bets.map(\.id) == placed.filter { $0.eventID == "even" }.reversed().prefix(5).map(\.id))
            _ = try await store.place(eventID: "even", amount: Money(cents: 100))
            let second = try await store.list(.init(eventID: "even"), scope: .anonymous, limit: 100, cursor: first.nextCursor)
            #expect(second.bets.map(\.id) == placed.filter { $0.eventID == "even" }.reversed().dropFirst(5).map(\.id))
            #expect(second.nextCursor == nil)

            let pendingOdd = try await store.list(.init(status: .pending, eventID: "odd"), scope: .anonymous, limit: 10, cursor: nil)
            #expect(pendingOdd.bets.isEmpty)
        }
    }

    @Test func aRareStatusIsFoundThroughShortPagesWhoseCursorGoesOn() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            guard case .placed(let rare) = try await store.place(eventID: "rare", amount: Money(cents: 100)) else {
                Issue.record("not placed")
                return
            }
            for _ in 0..<(2 * NewestFirstPages.maximumWindows + 5) {
                _ = try await store.place(eventID: "common", amount: Money(cents: 100))
            }
            #expect(try await store.report(eventID: "rare", result: .lose) == .reported)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 10).settle(eventID: "rare", result: .lose)

            // Windows of two ids: one page reads at most 2 x maximumWindows bets, all pending here.
            let first = try await store.list(.init(status: .lost), scope: .anonymous, limit: 2, cursor: nil)
            #expect(first.bets.isEmpty)
            #expect(first.nextCursor != nil)
            let second = try await store.list(.init(status: .lost), scope: .anonymous, limit: 2, cursor: first.nextCursor)
            #expect(second.bets.map(\.id) == [rare.id])
            #expect(second.nextCursor == nil)
        }
    }

    @Test func settlesInBatchesAndARedeliveryChangesNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            for _ in 0..<23 { _ = try await store.place(eventID: "big", amount: Money(cents: 250)) }
            _ = try await store.place(eventID: "other", amount: Money(cents: 1))
            #expect(try await store.report(eventID: "big", result: .lose) == .reported)
            let settler = Settler(redis: redis, keys: Self.keys, batchSize: 10)
            let report = try await settler.settle(eventID: "big", result: .lose)
            #expect(report.lost == 23 && report.won == 0 && report.flipped == 23 && report.batches == 3)
            let serial = try await redis.lrange(Self.keys.eventBets("big"), 22, 22)[0]
            let last = try await redis.hgetall(Self.keys.bet(BetID(eventID: "big", serial: serial)))
            #expect(last["status"] == "lost" && last["settled_at"] != nil)

            let again = try await settler.settle(eventID: "big", result: .lose)
            #expect(again.lost == 23 && again.flipped == 0 && again.batches == 0)

            let event = try await store.event(id: "big")
            #expect(event.lost == 23 && event.pending == 0 && event.settledAt != nil)
            #expect(try await store.list(.init(status: .lost), scope: .anonymous, limit: 100, cursor: nil).bets.count == 23)
            #expect(
                try await store.list(.init(status: .pending), scope: .anonymous, limit: 100, cursor: nil).bets.map(\.eventID) == ["other"])

            // A stream entry whose result is not the event's cannot settle anything.
            await #expect(throws: RedisError.self) { try await settler.settle(eventID: "big", result: .win) }
            #expect(try await store.list(.init(status: .won), scope: .anonymous, limit: 100, cursor: nil).bets.isEmpty)
        }
    }

    @Test func aStaleBatchChangesNothingAndAForeignBatchIsRefused() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            for _ in 0..<6 { _ = try await store.place(eventID: "e", amount: Money(cents: 100)) }
            #expect(try await store.report(eventID: "e", result: .win) == .reported)
            let ids = try await redis.lrange(Self.keys.eventBets("e"), 0, -1).map { BetID(eventID: "e", serial: $0) }
            let fixedKeys = [Self.keys.event("e"), Self.keys.eventBets("e"), Self.keys.creditOutbox(shard: 0)]
            func settle(_ batch: ArraySlice<BetID>, at position: Int) async throws -> [String] {
                try await redis.eval(
                    Scripts.settleBatch, keys: fixedKeys + batch.map(Self.keys.bet),
                    arguments: ["WIN", String(position), "1", Self.keys.bet(BetID(eventID: "e", serial: "")), String(batch.count), "e"]
                ).strings(for: "settle_batch")
            }
            #expect(try await settle([], at: -1) == ["stale", "0", "6", "0", "0", "0", "0", "0", "0", ""])
            #expect(try await settle(ids[0..<2], at: 0) == ["applied", "2", "6", "0", "2", "0", "0", "0", "0", ""])
            // Another worker repeats the first batch: nothing happens, it is told where things stand.
            #expect(try await settle(ids[0..<2], at: 0) == ["stale", "2", "6", "0", "2", "0", "0", "0", "0", ""])
            #expect(try await store.event(id: "e").won == 2)
            // A batch that is not the bets at its position is refused before anything is written.
            await #expect(throws: RedisError.self) { try await settle(ids[3..<5], at: 2) }
            await #expect(throws: RedisError.self) { try await settle([ids[2], ids[4]], at: 2) }
            await #expect(throws: RedisError.self) { try await settle([ids[2], ids[0], ids[4]], at: 2) }
            #expect(try await store.event(id: "e").won == 2)
            #expect(try await settle(ids[2..<6], at: 2) == ["applied", "6", "6", "1", "6", "0", "0", "0", "0", ""])
            #expect(try await settle(ids[2..<6], at: 2) == ["stale", "6", "6", "1", "6", "0", "0", "0", "0", ""])
            #expect(try await store.bets(ids.map { ($0, .anonymous) }).allSatisfy { $0.status == .won && $0.settledAt == 1 })
            // Anonymous bets owe nothing; no script writes the live feed (the Settler appends to it).
            #expect(try await redis.exists([Self.keys.creditOutbox(shard: 0), Self.keys.feed]) == 0)
        }
    }

    @Test func theSettlerAppendsOneFeedEntryPerAppliedBatch() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            for _ in 0..<6 { _ = try await store.place(eventID: "e", amount: Money(cents: 100)) }
            #expect(try await store.report(eventID: "e", result: .win) == .reported)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 4).settle(eventID: "e", result: .win)
            _ = try await Settler(redis: redis, keys: Self.keys, batchSize: 4).settle(eventID: "e", result: .win)
            let feed = try await redis.xrange(Self.keys.feed)
            #expect(feed.map { $0.fields?["settled"] } == ["4", "6"])
            #expect(feed.last?.fields?["total"] == "6" && feed.last?.fields?["won"] == "6" && feed.last?.fields?["users"] == "")
        }
    }

    @Test func twoSettlersOnOneEventFlipEveryBetOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let store = Self.store(redis)
            for _ in 0..<500 { _ = try await store.place(eventID: "shared", amount: Money(cents: 100)) }
            #expect(try await store.report(eventID: "shared", result: .lose) == .reported)
            let settler = Settler(redis: redis, keys: Self.keys, batchSize: 7)
            async let first = settler.settle(eventID: "shared", result: .lose)
            async let second = settler.settle(eventID: "shared", result: .lose)
            let reports = try await [first, second]
            #expect(reports.map(\.flipped).reduce(0, +) == 500)
            #expect(reports.allSatisfy { $0.lost == 500 })
            let ids = try await redis.lrange(Self.keys.eventBets("shared"), 0, -1).map {
                (BetID(eventID: "shared", serial: $0), BetStore.Holder.anonymous)
            }
            #expect(try await store.bets(ids).allSatisfy { $0.status == .lost })
            #expect(try await store.event(id: "shared").lost == 500)
        }
    }
}
