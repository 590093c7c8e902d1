import BetMaker
import BetMakerAPI
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RedisClient
import TestSupport
import Testing

/// `GET /admin/traders` and the traders index behind it (`RedisKeys.traders`), against a real Redis:
/// `update_user` keeps the index as it gives or takes the role, the seed puts its traders in it.
@Suite struct TradersAPITests {
    static let keys = RedisKeys(prefix: "t:")

    /// The index's members, as Redis holds them.
    static func indexed(_ redis: RedisClient) async throws -> [String] {
        try await redis.zrangeByScore(keys.traders, min: .negativeInfinity, max: .positiveInfinity).map(\.member)
    }

    static func patch(_ userID: Int, _ body: String, admin: String, client: some TestClientProtocol) async throws -> TestResponse {
        try await client.execute(
            uri: "/admin/users/\(userID)", method: .patch, headers: AuthAPITests.bearer(admin) + [.contentType: "application/json"],
            body: ByteBuffer(string: body))
    }

    @Test func theListFollowsTheTraderRoleWithLoginAndStatus() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            let bob = try await AuthAPITests.user("Bob", redis: redis, client: client)
            let carol = try await AuthAPITests.user("carol", redis: redis, client: client)
            let list = { try await client.get("/admin/traders", headers: AuthAPITests.bearer(admin.token)) }
            #expect(try await list().text == "[]", "nobody is a trader yet")

            for user in [bob, alice] {
                #expect(try await Self.patch(user.userID, #"{"role": "trader"}"#, admin: admin.token, client: client).status == .ok)
            }
            // By id, with the login as registered; a disabled trader stays listed, with its status.
            #expect(try await Self.patch(bob.userID, #"{"active": false}"#, admin: admin.token, client: client).status == .ok)
            let both = try await list()
            #expect(both.status == .ok && both.headers[.contentType] == "application/json")
            #expect(
                both.text
                    == #"[{"id":\#(alice.userID),"login":"alice","status":"active"},{"id":\#(bob.userID),"login":"Bob","status":"disabled"}]"#,
                "\(both.text)")
            #expect(try await Self.indexed(redis) == [String(alice.userID), String(bob.userID)])

            // Paged like /admin/users: the Link header names the next page.
            let first = try await client.get("/admin/traders?limit=1", headers: AuthAPITests.bearer(admin.token))
            #expect(first.text == #"[{"id":\#(alice.userID),"login":"alice","status":"active"}]"#)
            #expect(first.headers[.link] == #"</admin/traders?limit=1&cursor=\#(alice.userID)>; rel="next""#)
            let second = try await client.get("/admin/traders?limit=1&cursor=\(alice.userID)", headers: AuthAPITests.bearer(admin.token))
            #expect(second.text.contains(#""login":"Bob""#) && second.headers[.link] == nil, "\(second.text)")

            // Taking the role takes the user out; a refused change (an administrator's role) leaves it as it was.
            #expect(try await Self.patch(alice.userID, #"{"role": "player"}"#, admin: admin.token, client: client).status == .ok)
            #expect(try await Self.indexed(redis) == [String(bob.userID)])
            #expect(try await Self.patch(admin.userID, #"{"role": "trader"}"#, admin: admin.token, client: client).status == .conflict)
            #expect(try await Self.indexed(redis) == [String(bob.userID)])
            // Enabling or disabling alone does not touch the index.
            #expect(try await Self.patch(carol.userID, #"{"active": false}"#, admin: admin.token, client: client).status == .ok)
            #expect(try await Self.indexed(redis) == [String(bob.userID)])

            // Administrators only.
            let player = try await AuthAPITests.user("dave", redis: redis, client: client)
            let refused = try await client.get("/admin/traders", headers: AuthAPITests.bearer(player.token))
            #expect(refused.status == .forbidden && refused["type"]?.string == "/problems/forbidden")
            #expect(try await client.get("/admin/traders").status == .unauthorized)
            let invalid = try await client.get("/admin/traders?cursor=0&limit=0", headers: AuthAPITests.bearer(admin.token))
            #expect(invalid.status == .unprocessableContent && invalid.problemFields == ["limit", "cursor"], "\(invalid.text)")
        }
    }

    @Test func theSeedsTradersAreInTheIndexAndARepeatedSeedLeavesADemotedOneOut() async throws {
        try await withRedisServer { server in
            try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
                let settings = Settings.forTests(redis: server.configuration)
                try await Seed.run(settings: settings, redis: redis) { _ in }
                let accounts = AccountStore(redis: redis, keys: Self.keys)
                let (traders, _) = try await accounts.traders(limit: 10, after: nil)
                #expect(traders.map(\.login) == ["trader1", "trader2"] && traders.allSatisfy { $0.status == .active })
                // An administrator takes trader2's role; seeding again does not give it back.
                #expect(try await accounts.update(userID: traders[1].id, role: .player) != .missing)
                try await Seed.run(settings: settings, redis: redis) { _ in }
                #expect(try await accounts.traders(limit: 10, after: nil).traders.map(\.login) == ["trader1"])
                #expect(try await Self.indexed(redis) == [String(traders[0].id)])
            }
        }
    }
}
