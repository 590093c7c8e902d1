import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

extension ProcessFaultTests {
    // MARK: Redis full

    @Test func aFullRedisMakesWritesAnswer503AndReadsWorkUntilMemoryIsFreed() async throws {
        try await withBetMakerSystem(redisArguments: ["--maxmemory", "24mb", "--maxmemory-policy", "noeviction"]) { system in
            let placed = try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "5"}"#)
            #expect(placed.status == 201)
            let id = placed.string["id"] ?? ""

            // Fill Redis with one filler key until it refuses writes.
            let filler = "filler"
            let chunk = String(repeating: "x", count: 512 * 1024)
            var full = false
            for _ in 0..<200 where !full {
                do {
                    _ = try await system.redis.send(RedisCommand("APPEND", filler, chunk))
                } catch let error as RedisError where error.serverCode == "OOM" {
                    full = true
                }
            }
            #expect(full, "Redis never refused a write")

            let refused = try await withThrowingTaskGroup(of: BetMakerSystem.Reply.self) { group in
                for index in 0..<20 {
                    group.addTask { try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "\#(index + 1)"}"#) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for reply in refused {
                #expect(reply.status == 503, "\(reply.body)")
                #expect(reply.headers.first(name: "Content-Type") == "application/problem+json")
                #expect(reply.string["type"] == "/problems/storage-full", "\(reply.body)")
                #expect(reply.headers.first(name: "Retry-After") != nil)
            }
            let report = try await system.request(.PUT, "/events/other", json: #"{"status": "WIN"}"#)
            #expect(report.status == 503 && report.string["type"] == "/problems/storage-full", "\(report.body)")
            // Reading goes on.
            #expect(try await system.request(.GET, "/bets/\(id)").status == 200)
            let listing = try await system.request(.GET, "/bets?event_id=full")
            #expect(listing.status == 200 && listing.body.contains(id), "\(listing.body)")
            #expect(try await system.request(.GET, "/events/full").status == 200)
            #expect(system.api.isRunning)

            #expect(try await system.redis.del([filler]) == 1)
            let again = try await system.request(.POST, "/bets", json: #"{"event_id": "full", "amount": "6"}"#)
            #expect(again.status == 201, "\(again.body)")
            #expect(try await system.redis.llen(Self.keys.eventBets("full")) == 2, "refused bets left nothing behind")
            try await Self.expectInvariantsHold(system)
        }
    }
}
