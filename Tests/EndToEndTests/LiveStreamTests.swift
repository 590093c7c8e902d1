import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOCore
import NIOHTTP1
import RedisClient
import Synchronization
import TestSupport
import Testing

/// What the web UI's live stream (`GET /ui/stream`) may cost the real `betmaker-api` (issue 28, point
/// 12): streams per user, a reconnect's catch-up in pages, and no stream left subscribed.
@Suite struct LiveStreamTests {
    static let keys = BetMakerSystem.keys

    /// What an open stream has received so far, and whether it ended.
    final class Received: Sendable {
        private let state = Mutex<(text: String, ended: Bool)>(("", false))

        func append(_ text: String) { state.withLock { $0.text += text } }
        func end() { state.withLock { $0.ended = true } }
        var text: String { state.withLock { $0.text } }
        var ended: Bool { state.withLock { $0.ended } }

        /// The ids of the events received, in order.
        var eventIDs: [String] {
            text.components(separatedBy: "\n\n").compactMap { event in
                event.split(separator: "\n").first { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            }
        }
    }

    struct Stream: Sendable {
        let status: Int
        let received: Received
        let task: Task<Void, any Error>
    }

    /// Opens the stream with the session cookie and keeps reading it until the task is cancelled.
    static func open(_ system: System, cookie: String, lastEventID: String? = nil) async throws -> Stream {
        var request = HTTPClientRequest(url: system.baseURL + "/ui/stream")
        request.headers.add(name: "Cookie", value: cookie)
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let received = Received()
        let (statuses, status) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { received.end() }
            do {
                let response = try await system.http.execute(request, timeout: .seconds(600))
                status.yield(Int(response.status.code))
                status.finish()
                for try await buffer in response.body { received.append(String(buffer: buffer)) }
            } catch {
                status.finish()
                throw error
            }
        }
        var iterator = statuses.makeAsyncIterator()
        guard let code = await iterator.next() else {
            try await task.value
            throw TestSupportError("the stream answered nothing")
        }
        return Stream(status: code, received: received, task: task)
    }

    static func cookie(_ system: System, _ login: String) async throws -> String {
        let reply = try await system.request(.POST, "/auth?cookie=true", json: #"{"login": "\#(login)", "password": "a long password"}"#)
        guard let cookie = reply.headers.first(name: "Set-Cookie")?.split(separator: ";").first else {
            throw TestSupportError("no cookie for \(login): \(reply.body)")
        }
        return String(cookie)
    }

    /// The `live_streams` gauge of the API's metrics.
    static func openStreams(_ system: System) async throws -> Double? {
        Metrics(try await system.get(system.operationsURL + "/metrics").body).value("live_streams")
    }

    /// A settlement of one of `userID`'s bets, as `settle_batch` appends it to the feed.
    static func settlementCommand(for userID: Int, _ index: Int) -> RedisCommand {
        RedisCommand(
            "XADD",
            arguments: [
                keys.feed, "*", "type", "settlement", "event_id", "e\(index)", "result", "WIN", "settled", "1", "total", "1", "won", "1",
                "lost", "0", "void", "0", "paid", "100", "refunded", "0", "users", String(userID),
            ])
    }

    @Test func aUserHoldsAtMostLiveStreamsPerUserStreams() async throws {
        try await withSystem(apiSettings: ["LIVE_STREAMS_PER_USER": "2"]) { system in
            _ = try await WalletEndToEndTests.player(system, "sam")
            _ = try await WalletEndToEndTests.player(system, "tom")
            let sam = try await Self.cookie(system, "sam")
            let first = try await Self.open(system, cookie: sam)
            let second = try await Self.open(system, cookie: sam)
            #expect(first.status == 200 && second.status == 200)
            // Opened as a stream, so that a regression answering 200 fails here instead of waiting forever.
            let third = try await Self.open(system, cookie: sam)
            #expect(third.status == 429)
            if third.status == 429 {
                _ = try? await third.task.value
                #expect(third.received.text.contains(#""type":"/problems/too-many-live-streams""#), "\(third.received.text)")
            }
            third.task.cancel()
            // Another user has streams of their own.
            let tom = try await Self.open(system, cookie: try await Self.cookie(system, "tom"))
            #expect(tom.status == 200)
            #expect(await eventually { try await Self.openStreams(system) == 3 })
            // A stream that ends frees its place (the server notices at its next write, a keep-alive at the latest).
            first.task.cancel()
            #expect(await eventually { try await Self.openStreams(system) == 2 })
            let again = try await Self.open(system, cookie: sam)
            #expect(again.status == 200)
            for stream in [second, tom, again] { stream.task.cancel() }
        }
    }

    /// A browser away for a long time resumes in reads of at most a page each (the feed holds 10,000
    /// entries: one read of them all held Redis and the API's memory for every reconnect).
    @Test func aReconnectCatchesUpInPagesAndMissesNothing() async throws {
        try await withSystem { system in
            let player = try await WalletEndToEndTests.player(system, "rita")
            let cookie = try await Self.cookie(system, "rita")
            let replies = try await system.redis.pipeline((0..<450).map { Self.settlementCommand(for: player.userID, $0) })
            let ids = try replies.map { try $0.get().string(for: "XADD") }
            // The feed's node counts the reads (on a cluster, the other masters never see them).
            let feedNode = try await system.redis.connection(forKey: Self.keys.feed)
            _ = try await feedNode.send(RedisCommand("CONFIG", "RESETSTAT"))
            let stream = try await Self.open(system, cookie: cookie, lastEventID: ids[0])
            #expect(stream.status == 200)
            #expect(await eventually { stream.received.eventIDs.last == ids.last })
            #expect(stream.received.eventIDs == Array(ids.dropFirst()), "each missed entry once, in order")
            let stats = try await feedNode.infoFields("commandstats")["cmdstat_xrange"] ?? ""
            let reads = stats.split(separator: ",").first { $0.hasPrefix("calls=") }.flatMap { Int($0.dropFirst(6)) } ?? 0
            // 449 entries at 100 a read: five reads, and the one that checks how far back the feed reaches.
            #expect(reads >= 6, "\(stats)")
            stream.task.cancel()
        }
    }

    /// However a stream ends, it is unsubscribed: here its catch-up read fails.
    @Test func aStreamWhoseCatchUpFailsIsUnsubscribed() async throws {
        try await withSystem(apiSettings: ["LIVE_STREAMS_PER_USER": "1"]) { system in
            _ = try await WalletEndToEndTests.player(system, "una")
            let cookie = try await Self.cookie(system, "una")
            // The feed's key holds a string: every read of it fails (WRONGTYPE).
            _ = try await system.redis.set(Self.keys.feed, to: "not a stream")
            let failed = try await Self.open(system, cookie: cookie, lastEventID: "1-0")
            #expect(failed.status == 200)
            #expect(await eventually { failed.received.ended }, "the stream ends when its catch-up fails")
            #expect(await eventually { try await Self.openStreams(system) == 0 })
            // Its one place is free again.
            _ = try await system.redis.del([Self.keys.feed])
            let next = try await Self.open(system, cookie: cookie, lastEventID: "1-0")
            #expect(next.status == 200)
            next.task.cancel()
        }
    }
}
