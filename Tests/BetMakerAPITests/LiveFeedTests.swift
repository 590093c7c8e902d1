import BetMaker
import BetMakerRuntime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisClient
import TestSupport
import Testing

@testable import BetMakerAPI

/// The live updates: one reader per process fanning the feed stream out, per-browser filtering,
/// Server-Sent Events framing, resuming from `Last-Event-ID`, and a slow browser dropped.
@Suite struct LiveFeedTests {
    static let keys = RedisKeys(prefix: "t:")

    /// The API with its live feed in hand (running as a service of the application), and a client
    /// of the same Redis.
    func withFeed(
        bufferSize: Int = 64, streamsPerUser: Int = 10,
        _ body: @Sendable (any TestClientProtocol, LiveFeed, RedisClient) async throws -> Void
    ) async throws {
        try await withRedisServer { server in
            let settings = Settings.forTests(redis: server.configuration)
            let redis = RedisClient(configuration: server.configuration)
            let feed = LiveFeed(
                redis: redis, keys: Self.keys, symbols: ["BTC"], logger: Logger(label: "test"), bufferSize: bufferSize,
                streamsPerUser: streamsPerUser, block: .milliseconds(200))
            let gate = SchemaGate(redis: redis, keys: Self.keys, logger: Logger(label: "test"))
            let router = try await buildRouter(settings: settings, redis: redis, feed: feed, gate: gate)
            let app = Application(router: router, services: [redis, gate, feed])
            try await app.test(.router) { client in
                // The tests write feed entries straight to Redis: before the gate has stamped the schema,
                // it would take them for a development build's data and stop the process.
                try await gate.waitUntilOpen()
                try await body(client, feed, redis)
            }
        }
    }

    /// The ids a catch-up after `id` hands over, or nil when it says reset.
    static func caughtUp(_ feed: LiveFeed, after id: String) async throws -> [String]? {
        var ids: [String] = []
        return try await feed.catchUp(after: id) { ids += $0.map(\.id) } ? ids : nil
    }

    /// A settlement entry as `settle_batch` appends it.
    @discardableResult
    static func settlement(_ event: String, users: [Int], settled: Int, redis: RedisClient) async throws -> String {
        try await redis.xadd(
            keys.feed,
            fields: [
                "type": "settlement", "event_id": event, "result": "WIN", "settled": String(settled), "total": "4", "won": String(settled),
                "lost": "0", "void": "0", "paid": "1850", "refunded": "0", "users": users.map(String.init).joined(separator: ","),
            ])
    }

    @Test func eachBrowserGetsOnlyWhatItMaySeeFramedAsServerSentEvents() async throws {
        try await withFeed { _, feed, redis in
            let player = try #require(feed.subscribe(userID: 7, isOperator: false)).messages
            let admin = try #require(feed.subscribe(userID: 1, isOperator: true)).messages
            #expect(await eventually { feed.isReading })
            let first = try await Self.settlement("derby", users: [7, 8], settled: 2, redis: redis)
            var playerMessages = player.makeAsyncIterator()
            var adminMessages = admin.makeAsyncIterator()
            let second = try await Self.settlement("cup", users: [9], settled: 1, redis: redis)
            let third = try await Self.settlement("derby", users: [7], settled: 4, redis: redis)
            var seenByPlayer: [String] = []
            while let message = await playerMessages.next() {
                guard case .event(let id, let name, let data) = message else { continue }
                #expect(name == "settlement" && !data.contains("paid"), "players see their bets' progress, not the money paid")
                seenByPlayer.append(id)
                if id == third { break }
            }
            #expect(!seenByPlayer.contains(second), "another player's settlement is not sent")
            #expect(seenByPlayer == [first, third])
            var seenByAdmin: [LiveFeed.Message] = []
            while let message = await adminMessages.next() {
                seenByAdmin.append(message)
                if case .event(third, _, _) = message { break }
            }
            #expect(
                seenByAdmin.contains { if case .event(second, "progress", _) = $0 { true } else { false } }, "operators see every event")
            let framed = String(buffer: ServerSentEvents.frame(try #require(seenByAdmin.last)))
            #expect(
                framed == "id: \(third)\nevent: progress\ndata: "
                    + #"{"event_id":"derby","result":"WIN","settled":4,"total":4,"won":4,"lost":0,"void":0,"paid":"18.50","refunded":"0.00"}"#
                    + "\n\n")
            #expect(String(buffer: ServerSentEvents.frame(.keepAlive)) == ": keep-alive\n\n")
        }
    }

    @Test func aClosedTradeGoesToItsOwnerOnlyAndTicksToEveryone() async throws {
        try await withFeed { _, feed, redis in
            let owner = try #require(feed.subscribe(userID: 7, isOperator: false)).messages
            let other = try #require(feed.subscribe(userID: 8, isOperator: false)).messages
            let admin = try #require(feed.subscribe(userID: 1, isOperator: true)).messages
            #expect(await eventually { feed.isReading })
            let trades = TradeStore(redis: redis, keys: Self.keys, ids: IDGenerator(node: 3))
            let tick = try await trades.prices.record(symbol: "BTC", price: Price(units: 4_500_000_000_000), source: "test")
            // As `close_trades` appends it: the users whose trades the call closed.
            let closed = try await redis.xadd(
                Self.keys.feed,
                fields: ["type": "trades", "symbol": "BTC", "tick": tick.id, "price": String(tick.price.units), "users": "7,9"])
            // After it, a settlement everybody below sees: by then they would have had the trades entry.
            let marker = try await Self.settlement("derby", users: [7, 8], settled: 1, redis: redis)
            let tickEvent = LiveFeed.Message.update(name: "tick", data: #"{"symbol":"BTC","tick":"\#(tick.id)","price":"45000.00000000"}"#)
            for (who, messages) in [("owner", owner), ("another player", other), ("an operator", admin)] {
                var seen: [LiveFeed.Message] = []
                for await message in messages {
                    seen.append(message)
                    if seen.contains(tickEvent), seen.contains(where: { if case .event(marker, _, _) = $0 { true } else { false } }) {
                        break
                    }
                }
                let tradeEvents = seen.filter { if case .event(_, "trades", _) = $0 { true } else { false } }
                if who == "owner" {
                    #expect(
                        tradeEvents == [
                            .event(id: closed, name: "trades", data: #"{"symbol":"BTC","tick":"\#(tick.id)","price":"45000.00000000"}"#)
                        ])
                } else {
                    #expect(tradeEvents.isEmpty, "\(who) is not told of another's trades")
                }
            }
            // A tick has no id: it leaves the browser's Last-Event-ID alone.
            #expect(
                String(buffer: ServerSentEvents.frame(tickEvent))
                    == "event: tick\ndata: \(#"{"symbol":"BTC","tick":"\#(tick.id)","price":"45000.00000000"}"#)\n\n")
        }
    }

    /// `void_trade`'s entry has no tick or price: the owner still hears of it, nobody else does.
    @Test func aVoidedTradeGoesToItsOwnerWithoutATick() {
        let entry = StreamEntry(id: "5-0", fields: ["type": "trades", "symbol": "ETH", "users": "7"])
        #expect(
            LiveFeed.message(for: entry, userID: 7, isOperator: false)
                == .event(id: "5-0", name: "trades", data: #"{"symbol":"ETH","tick":null,"price":null}"#))
        #expect(LiveFeed.message(for: entry, userID: 8, isOperator: false) == nil)
        #expect(LiveFeed.message(for: entry, userID: 1, isOperator: true) == nil)
    }

    /// Past `LIVE_STREAMS_PER_USER` a user's next stream is refused, as the API document says.
    @Test func aUserPastTheirStreamsIsRefused() async throws {
        try await withFeed(streamsPerUser: 1) { client, feed, redis in
            let bob = try await AuthAPITests.user("bob", redis: redis, client: client)
            let cookie = try await WebUITests.cookie("bob", client: client)
            let held = try #require(feed.subscribe(userID: bob.userID, isOperator: false))
            #expect(feed.subscribe(userID: bob.userID, isOperator: false) == nil)
            let refused = try await client.execute(uri: "/ui/stream", method: .get, headers: [.cookie: cookie])
            #expect(refused.status == .tooManyRequests && refused["type"] == .string("/problems/too-many-live-streams"))
            try OpenAPIContractTests.check(refused, method: "GET", path: "/ui/stream")
            // Another user is not affected; an ended stream frees its place.
            #expect(feed.subscribe(userID: bob.userID + 1, isOperator: false) != nil)
            feed.end(held.id)
            #expect(feed.streams(of: bob.userID) == 0)
        }
    }

    @Test func aReconnectingBrowserResumesFromLastEventIDOrIsToldToReset() async throws {
        try await withFeed { client, feed, redis in
            let bob = try await AuthAPITests.user("bob", redis: redis, client: client)
            let cookie = try await WebUITests.cookie("bob", client: client)
            let seen = try await Self.settlement("derby", users: [bob.userID], settled: 1, redis: redis)
            let missed = try await Self.settlement("derby", users: [bob.userID], settled: 2, redis: redis)
            _ = try await Self.settlement("cup", users: [bob.userID + 100], settled: 1, redis: redis)
            let missedToo = try await Self.settlement("derby", users: [bob.userID], settled: 4, redis: redis)
            // The route: the stream stays open until the process stops, which `finishAll` stands for.
            async let response = client.execute(uri: "/ui/stream", method: .get, headers: [.cookie: cookie, .lastEventID: seen])
            #expect(await eventually { feed.subscriberCount == 1 })
            feed.finishAll()
            let answer = try await response
            #expect(answer.status == .ok && answer.headers[.contentType] == "text/event-stream")
            #expect(answer.headers[.contentSecurityPolicy] != nil && answer.headers[.cacheControl] == "no-store")
            let events = String(buffer: answer.body).components(separatedBy: "\n\n").filter { $0.hasPrefix("id: ") }
            #expect(events.map { $0.prefix { $0 != "\n" } } == ["id: \(missed)", "id: \(missedToo)"], "\(events)")
            #expect(String(buffer: answer.body).hasPrefix("retry: 2000\n\n"))
            // As the API document says (OpenAPIContractTests cannot see a 200 of a stream that never ends).
            try OpenAPIContractTests.check(answer, method: "GET", path: "/ui/stream")

            // Only what the stream still holds can be resumed: trimmed past it, the browser must reload.
            #expect(try await Self.caughtUp(feed, after: seen)?.contains(missed) == true)
            try await redis.xtrim(Self.keys.feed, minID: missedToo, approximate: false)
            #expect(try await Self.caughtUp(feed, after: seen) == nil)
            #expect(try await Self.caughtUp(feed, after: "not-an-id") == nil)
            async let again = client.execute(uri: "/ui/stream", method: .get, headers: [.cookie: cookie, .lastEventID: seen])
            #expect(await eventually { feed.subscriberCount == 1 })
            feed.finishAll()
            #expect(String(buffer: try await again.body) == "retry: 2000\n\nevent: reset\ndata: {}\n\n")
            // Without a session there is no stream.
            #expect(try await client.get("/ui/stream").status == .unauthorized)
        }
    }

    @Test func aSlowBrowserIsDroppedWithoutHoldingMemory() async throws {
        try await withFeed(bufferSize: 2) { _, feed, redis in
            #expect(await eventually { feed.isReading })
            let slow = try #require(feed.subscribe(userID: 1, isOperator: true)).messages
            #expect(feed.subscriberCount == 1)
            for settled in 1...5 { try await Self.settlement("derby", users: [], settled: settled, redis: redis) }
            // The slow browser's buffer (2) overflowed: it is gone, and its stream ends after what it held.
            #expect(await eventually { feed.subscriberCount == 0 })
            var held = 0
            for await _ in slow { held += 1 }
            #expect(held == 2)
        }
    }
}
