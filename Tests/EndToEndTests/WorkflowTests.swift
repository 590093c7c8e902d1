import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// The resulting workflow through the real `betmaker-api` (and worker) over HTTP: roles, assigning,
/// taking, reporting and voiding (docs/ARCHITECTURE.md, "The event workflow").
@Suite struct WorkflowTests {
    typealias Wallet = WalletEndToEndTests
    static let keys = BetMakerSystem.keys

    /// Seeds the store (an administrator, two traders, a demo player) and logs the administrator in.
    static func seededAdmin(_ system: System, settings: [String: String] = [:]) async throws -> String {
        let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment, settings: settings)
        guard seeded.status == 0 else { throw TestSupportError("seed failed: \(seeded.output)") }
        return try await Wallet.logIn(system, "admin", "admin-password")
    }

    /// `count` registered players made traders by the administrator: user id and token each.
    static func traders(
        _ count: Int, prefix: String = "trader", _ system: System, admin: String
    ) async throws -> [(userID: Int, token: String)] {
        var traders: [(userID: Int, token: String)] = []
        for index in 0..<count {
            let player = try await Wallet.player(system, "\(prefix)-\(index)")
            let made = try await system.request(.PATCH, "/admin/users/\(player.userID)", json: #"{"role": "trader"}"#, token: admin)
            guard made.status == 200, made.body.contains(#""role":"trader""#) else { throw TestSupportError("not a trader: \(made.body)") }
            traders.append((player.userID, player.token))
        }
        return traders
    }

    /// A catalogue event that takes bets with money.
    static func createEvent(_ id: String, _ system: System, admin: String) async throws {
        let body =
            #"{"id": "\#(id)", "title": "\#(id)", "home_team": "Reds", "away_team": "Blues", "starts_at": "2030-01-01T18:00:00Z", "odds": "2.00"}"#
        let created = try await system.request(.POST, "/admin/events", json: body, token: admin)
        guard created.status == 201 else { throw TestSupportError("event \(id) not created: \(created.body)") }
    }

    static func userID(_ system: System, _ token: String) async throws -> Int? {
        guard case .object(let user)? = try await system.request(.GET, "/users/me", token: token)["user"],
            case .number(let id)? = user.first(where: { $0.key == "id" })?.value
        else { return nil }
        return Int(id)
    }

    @Test func seedCreatesTradersAndAdministratorsGiveAndTakeTheRole() async throws {
        try await withSystem { system in
            let admin = try await Self.seededAdmin(system, settings: ["SEED_TRADER_PASSWORD": "the traders' password"])
            let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(
                seeded.output.contains("trader trader1: exists") && seeded.output.contains("trader trader2: exists"), "\(seeded.output)")
            for login in ["trader1", "trader2"] {
                let token = try await Wallet.logIn(system, login, "the traders' password")
                #expect(try await system.request(.GET, "/users/me", token: token).body.contains(#""role":"trader""#))
            }
            try await Self.createEvent("roles", system, admin: admin)
            let carol = try await Wallet.player(system, "carol")
            let take = { try await system.request(.POST, "/events/roles/take", token: carol.token) }
            #expect(try await take().status == 403)
            let made = try await system.request(.PATCH, "/admin/users/\(carol.userID)", json: #"{"role": "trader"}"#, token: admin)
            #expect(made.status == 200 && made.body.contains(#""role":"trader""#), "\(made.body)")
            // Tokens carry no role: carol's token from before works as a trader's at once, and stops at once.
            #expect(try await take().status == 200)
            #expect(
                try await system.request(.PATCH, "/admin/users/\(carol.userID)", json: #"{"role": "player"}"#, token: admin).status == 200)
            let report = try await system.request(.PUT, "/events/roles", json: #"{"status": "WIN"}"#, token: carol.token)
            #expect(report.status == 403 && report.string["type"] == "/problems/forbidden", "\(report.body)")
            #expect(try await system.request(.GET, "/events/roles").string["state"] == "in_progress")
            // Nobody is made an administrator over the API, and an administrator keeps their role.
            let toAdmin = try await system.request(.PATCH, "/admin/users/\(carol.userID)", json: #"{"role": "admin"}"#, token: admin)
            #expect(toAdmin.status == 422, "\(toAdmin.body)")
            let adminID = try #require(try await Self.userID(system, admin))
            let own = try await system.request(.PATCH, "/admin/users/\(adminID)", json: #"{"role": "trader"}"#, token: admin)
            #expect(own.status == 409 && own.string["type"] == "/problems/cannot-change-own-role", "\(own.body)")
            #expect(try await system.request(.GET, "/users/me", token: admin).body.contains(#""role":"admin""#))
        }
    }

    @Test func twentyTradersTakingOneEventAtOnceGetOne200AndNineteen409() async throws {
        try await withSystem { system in
            let admin = try await Self.seededAdmin(system)
            let traders = try await Self.traders(20, system, admin: admin)
            for round in 0..<3 {
                let event = "race-\(round)"
                try await Self.createEvent(event, system, admin: admin)
                let replies = try await withThrowingTaskGroup(of: (Int, System.Reply).self) { group in
                    for (index, trader) in traders.enumerated() {
                        group.addTask { (index, try await system.request(.POST, "/events/\(event)/take", token: trader.token)) }
                    }
                    return try await group.reduce(into: [(Int, System.Reply)]()) { $0.append($1) }
                }
                let winners = replies.filter { $0.1.status == 200 }
                #expect(winners.count == 1, "\(replies.map(\.1.status))")
                let losers = replies.filter { $0.1.status == 409 }
                #expect(losers.count == 19, "\(replies.map(\.1.status))")
                #expect(
                    losers.allSatisfy {
                        $0.1.string["type"] == "/problems/event-state-conflict" && $0.1.string["current_state"] == "in_progress"
                    })
                let winner = try #require(winners.first?.0)
                let state = try await system.request(.GET, "/events/\(event)")
                #expect(
                    state.string["state"] == "in_progress" && state.body.contains(#""trader_id":\#(traders[winner].userID),"#),
                    "\(state.body)")

                // A trader reporting an event another trader took: 403, and nothing changes.
                let loser = traders[(winner + 1) % traders.count]
                let stream = try await system.redis.xlen(Self.keys.eventsStream(shard: Self.keys.shard(of: event)))
                let report = try await system.request(.PUT, "/events/\(event)", json: #"{"status": "WIN"}"#, token: loser.token)
                #expect(report.status == 403 && report.string["type"] == "/problems/not-your-event", "\(report.body)")
                #expect(report.string["current_state"] == "in_progress")
                #expect(try await system.request(.GET, "/events/\(event)").string["status"] == "open")
                #expect(try await system.redis.xlen(Self.keys.eventsStream(shard: Self.keys.shard(of: event))) == stream)
                #expect(
                    try await system.request(.PUT, "/events/\(event)", json: #"{"status": "WIN"}"#, token: traders[winner].token).status
                        == 202)
            }

            // An assigned event is its trader's: another trader taking it gets 403 and changes nothing.
            try await Self.createEvent("assigned", system, admin: admin)
            let assign = try await system.request(
                .POST, "/events/assigned/assign", json: #"{"trader_id": \#(traders[0].userID)}"#, token: admin)
            #expect(assign.status == 200 && assign.string["state"] == "assigned", "\(assign.body)")
            let before = try await system.redis.hgetall(Self.keys.event("assigned"))
            let other = try await system.request(.POST, "/events/assigned/take", token: traders[1].token)
            #expect(other.status == 403 && other.string["type"] == "/problems/not-your-event", "\(other.body)")
            #expect(other.string["current_state"] == "assigned")
            #expect(try await system.redis.hgetall(Self.keys.event("assigned")) == before)
            #expect(try await system.request(.POST, "/events/assigned/take", token: traders[0].token).status == 200)
        }
    }
}
