import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The real API and worker on a store split into 4 shards (`REDIS_SHARDS=4`): events land in their
/// shards, one worker settles them all (a loop per shard), the listings merge the shards, and a dead
/// letter is re-driven by its shard-named id.
@Suite struct ShardedEndToEndTests {
    static let settings = ["REDIS_SHARDS": "4"]

    /// Two event ids in each shard.
    static func events(_ keys: RedisKeys) -> [String] {
        var found: [Int: [String]] = [:]
        var serial = 0
        while found.values.map(\.count).reduce(0, +) < 2 * keys.shards {
            let id = "derby-\(serial)"
            if found[keys.shard(of: id), default: []].count < 2 { found[keys.shard(of: id), default: []].append(id) }
            serial += 1
        }
        return keys.allShards.flatMap { found[$0]! }
    }

    @Test func aWorkerSettlesEveryShardAndTheListingsMergeThem() async throws {
        try await withSystem(apiSettings: Self.settings) { system in
            #expect(system.keys.shards == 4)
            #expect(try await BetMakerProcesses.seedDemo(redis: system.deployment, settings: Self.settings).status == 0)
            let login = try await system.request(.POST, "/auth", json: #"{"login": "admin", "password": "admin-password"}"#)
            let admin = try #require(login.string["access_token"], "\(login.body)")

            let events = Self.events(system.keys)
            var placed: [String] = []
            for round in 0..<3 {
                for event in events {
                    let reply = try await system.request(.POST, "/bets", json: #"{"event_id": "\#(event)", "amount": "\#(round + 1)"}"#)
                    #expect(reply.status == 201, "\(reply.body)")
                    placed.append(reply.string["id"] ?? "")
                }
            }
            // A stray entry for the last event, before its result: the worker cannot settle it (the
            // event has no result yet) and dead-letters it on that shard.
            let stray = events.last!
            let strayShard = system.keys.shard(of: stray)
            _ = try await system.redis.send(
                RedisCommand("XADD", system.keys.eventsStream(shard: strayShard), "*", "event_id", stray, "result", "WIN"))

            let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: Self.settings)
            #expect(
                await eventually(timeout: .seconds(30)) { try await system.redis.xlen(system.keys.deadLetters(shard: strayShard)) == 1 })
            for (index, event) in events.enumerated() {
                let result = index % 2 == 0 ? "LOSE" : "WIN"
                #expect(try await system.request(.PUT, "/events/\(event)", json: #"{"status": "\#(result)"}"#).status == 202)
                #expect(try await system.redis.xlen(system.keys.eventsStream(shard: system.keys.shard(of: event))) >= 1)
            }
            #expect(
                await eventually(timeout: .seconds(60)) {
                    for event in events where try await system.redis.hget(system.keys.event(event), "settled_at") == nil { return false }
                    return true
                })

            // Every anonymous bet, newest first, through the Link header in pages of 5.
            var listed: [[String: String]] = []
            var next: String? = "/bets?limit=5"
            while let path = next {
                let page = try await system.request(.GET, path)
                #expect(page.status == 200, "\(page.body)")
                guard case .array(let bets) = page.json else { break }
                for case .object(let members) in bets {
                    var bet: [String: String] = [:]
                    for member in members { if case .string(let text) = member.value { bet[member.key] = text } }
                    listed.append(bet)
                }
                next = page.headers.first(name: "Link").flatMap { $0.split(separator: ">").first.map { String($0.dropFirst()) } }
            }
            #expect(listed.map { $0["id"] ?? "" } == placed.reversed())
            for bet in listed {
                let event = String(bet["id"]?.split(separator: "~").first ?? "")
                let index = events.firstIndex(of: event) ?? 0
                #expect(bet["status"] == (index % 2 == 0 ? "lost" : "won"), "\(bet)")
            }

            // The seeded catalogue is listed by start time across the shards.
            let catalogue = try await system.request(.GET, "/events?limit=100")
            guard case .array(let listedEvents) = catalogue.json else {
                Issue.record("no catalogue: \(catalogue.body)")
                return
            }
            let starts = listedEvents.compactMap { event -> String? in
                guard case .object(let members) = event, case .string(let start)? = members.first(where: { $0.key == "starts_at" })?.value
                else { return nil }
                return start
            }
            #expect(starts.count > 1 && starts == starts.sorted(), "\(catalogue.body)")

            // The dead letter is named by its shard and re-driven by that name.
            let letters = try await system.request(.GET, "/admin/dead-letters", token: admin)
            guard case .array(let found) = letters.json, found.count == 1, case .object(let members) = found[0],
                case .string(let id)? = members.first(where: { $0.key == "id" })?.value
            else {
                Issue.record("\(letters.body)")
                return
            }
            #expect(id.hasPrefix("\(strayShard):"), "\(id)")
            let retried = try await system.request(.POST, "/admin/dead-letters/\(id)/retry", token: admin)
            #expect(retried.status == 202 && retried.string["event_id"] == stray, "\(retried.body)")
            #expect(try await system.request(.POST, "/admin/dead-letters/\(id)/retry", token: admin).status == 404)
            #expect(
                await eventually {
                    for shard in system.keys.allShards
                    where try await system.redis.xpendingSummary(system.keys.eventsStream(shard: shard), group: "settlement").count > 0 {
                        return false
                    }
                    return true
                })
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment, settings: Self.settings)
            #expect(check.status == 0, "\(check.output)")
            #expect(await worker.stop() == 0)
        }
    }
}
