import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

/// Email sign-up through the real `betmaker-api` and `betmaker-worker` processes, with the fake ESP
/// (`FakeESPServer`, a real HTTP server) as the email service provider.
@Suite struct ContactEndToEndTests {
    static let keys = BetMakerSystem.keys

    /// The shard an address's contact, outbox messages and retries live in.
    static func shard(_ address: String) -> Int { keys.shard(of: EmailAddress.subscriberHash(of: address)) }

    static func play(_ system: System, _ email: String, token: String? = nil) async throws -> System.Reply {
        let body = #"{"email": "\#(email)"}"#
        if let token { return try await system.request(.POST, "/plays", json: body, token: token) }
        return try await system.request(.POST, "/plays", json: body)
    }

    static func contactField(_ system: System, _ email: String, _ field: String) async throws -> String? {
        try await system.redis.hget(keys.contact(EmailAddress.subscriberHash(of: email)), field)
    }

    @Test func aNewAddressIsLookedUpOnceCreatedOnceAndAKnownOneNeverCallsTheESP() async throws {
        try await withFakeESP { esp in
            esp.hold("held@example.com")
            try await withSystem(apiSettings: esp.settings) { system in
                let first = try await Self.play(system, "  New.Player@Example.COM ")
                #expect(first.status == 200, "\(first.body)")
                #expect(first["email"] == .string("new.player@example.com") && first["in_esp"] == .bool(false), "\(first.body)")
                #expect(first["in_db"] == .bool(false) && first["game_count"] == .number("1"), "\(first.body)")
                #expect(first["in_esp_note"] == nil, "\(first.body)")

                let held = try await Self.play(system, "HELD@example.com")
                #expect(
                    held["in_esp"] == .bool(true) && held["in_db"] == .bool(false) && held["game_count"] == .number("1"), "\(held.body)")

                let again = try await Self.play(system, "new.player@example.com")
                #expect(again["in_db"] == .bool(true) && again["game_count"] == .number("2"), "\(again.body)")
                #expect(esp.calls("GET", "new.player@example.com") == 1 && esp.calls("GET", "held@example.com") == 1)
                // One create queued, for the address the ESP lacked; none for the one it holds.
                #expect(try await system.redis.xlen(Self.keys.contactOutbox(shard: Self.shard("new.player@example.com"))) == 1)
                #expect(try await Self.contactField(system, "held@example.com", "sync") == "synced")

                let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: esp.settings)
                #expect(await eventually { try await Self.contactField(system, "new.player@example.com", "sync") == "synced" })
                #expect(esp.holds("new.player@example.com"))
                #expect(esp.calls("PUT", "new.player@example.com") == 1 && esp.calls("PUT", "held@example.com") == 0)

                // Known now, and created: the answer says so without asking the ESP again.
                let third = try await Self.play(system, "NEW.player@example.com")
                #expect(
                    third["in_esp"] == .bool(true) && third["in_db"] == .bool(true) && third["game_count"] == .number("3"), "\(third.body)")
                #expect(esp.calls("GET", "new.player@example.com") == 1)
                #expect(esp.calls("GET") == 2 && esp.calls("PUT") == 1 && esp.calls("POST") == 0)
                // Logs never carry a whole address.
                #expect(!worker.output.contains("new.player@") && worker.output.contains("n***@example.com"), "\(worker.output)")
                #expect(!system.api.output.contains("new.player@"), "\(system.api.output)")
                #expect(await worker.stop() == 0)
            }
        }
    }

    @Test func twentyConcurrentPlaysOfANewAddressRecordItOnceAndCountOneToTwenty() async throws {
        try await withFakeESP { esp in
            // A slow lookup, so the plays are all in flight before the first is recorded.
            esp.setBehaviour(.init(delay: .milliseconds(100)))
            try await withSystem(apiSettings: esp.settings) { system in
                let replies = try await withThrowingTaskGroup(of: System.Reply.self) { group in
                    for _ in 0..<20 { group.addTask { try await Self.play(system, "crowd@example.com") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map(\.body))")
                #expect(replies.filter { $0["in_db"] == .bool(false) }.count == 1, "\(replies.map(\.body))")
                let counts = replies.compactMap { reply -> Int? in
                    guard case .number(let text)? = reply["game_count"] else { return nil }
                    return Int(text)
                }
                #expect(counts.sorted() == Array(1...20), "\(counts)")
                #expect(try await system.redis.xlen(Self.keys.contactOutbox(shard: Self.shard("crowd@example.com"))) == 1)
                esp.setBehaviour(.normal)
                let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: esp.settings)
                #expect(await eventually { esp.holds("crowd@example.com") })
                #expect(await eventually { try await Self.contactField(system, "crowd@example.com", "sync") == "synced" })
                #expect(esp.calls("PUT", "crowd@example.com") == 1)
                #expect(try await Self.contactField(system, "crowd@example.com", "plays") == "20")
                #expect(await worker.stop() == 0)
            }
        }
    }

    @Test func whileTheESPIsDownPlaysCountAndTheContactIsCreatedOnceItIsBack() async throws {
        try await withFakeESP { esp in
            // Down: every call waits a minute, then fails; the API's lookup gives up after 200 ms.
            esp.setBehaviour(.init(status: 503, delay: .seconds(60)))
            let settings = esp.settings.merging([
                "ESP_LOOKUP_TIMEOUT_MS": "200", "ESP_TIMEOUT_MS": "300", "ESP_RETRY_INITIAL_MS": "50", "ESP_RETRY_MAX_MS": "200",
                "ESP_MAX_ATTEMPTS": "100",
            ]) { $1 }
            try await withSystem(apiSettings: settings) { system in
                // The API answered while the ESP had not: its lookup's deadline, not the ESP, ended the wait.
                // At most one lookup: on a loaded machine the deadline can pass before the request even
                // reaches the fake ESP.
                let play = try await Self.play(system, "patient@example.com")
                #expect(esp.calls("GET", "patient@example.com") <= 1 && esp.answered == 0, "the lookup's deadline holds")
                #expect(play.status == 200 && play["in_esp"] == .null && play["in_db"] == .bool(false), "\(play.body)")
                #expect(play["game_count"] == .number("1"), "\(play.body)")
                guard case .string(let note)? = play["in_esp_note"] else {
                    Issue.record("no in_esp_note: \(play.body)")
                    return
                }
                #expect(note.contains("did not answer within 200 ms"), "\(note)")

                let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: settings)
                // The worker tries, times out or hears 503, and schedules retries.
                #expect(await eventually { try await Int(Self.contactField(system, "patient@example.com", "attempts") ?? "0") ?? 0 >= 2 })
                #expect(try await Self.contactField(system, "patient@example.com", "sync") == "pending")
                #expect(!esp.holds("patient@example.com"))
                esp.setBehaviour(.normal)
                #expect(await eventually { try await Self.contactField(system, "patient@example.com", "sync") == "synced" })
                #expect(esp.holds("patient@example.com"))
                // Once created, nothing is sent again.
                let shard = Self.shard("patient@example.com")
                #expect(try await system.redis.zcard(Self.keys.contactOutboxRetries(shard: shard)) == 0)
                #expect(try await system.redis.xpendingSummary(Self.keys.contactOutbox(shard: shard), group: "esp").count == 0)
                let puts = esp.calls("PUT", "patient@example.com")
                #expect(await worker.stop() == 0)
                #expect(esp.calls("PUT", "patient@example.com") == puts)
                // Every PUT before the last one met the ESP down and changed nothing there; the
                // contact was created exactly once.
                #expect(esp.memberCount == 1)
                #expect(worker.output.contains("retrying later") && !worker.output.contains("patient@"), "\(worker.output)")
            }
        }
    }

    @Test func anInvalidAddressIs422AndRecordsNothing() async throws {
        try await withFakeESP { esp in
            try await withSystem(apiSettings: esp.settings) { system in
                let local65 = String(repeating: "a", count: 65) + "@example.com"
                let long = String(repeating: "a", count: 60) + "@" + String(repeating: "b.", count: 96) + "com"
                for body in [
                    #"{"email": "no-at-sign"}"#, #"{"email": "two@@example.com"}"#, #"{"email": "dot..dot@example.com"}"#,
                    #"{"email": ".lead@example.com"}"#, #"{"email": "user@localhost"}"#, #"{"email": "user@-bad.com"}"#,
                    #"{"email": "user@example.123"}"#, #"{"email": "sp ace@example.com"}"#, #"{"email": "\"quoted\"@example.com"}"#,
                    #"{"email": "ünï@example.com"}"#, #"{"email": "\#(local65)"}"#, #"{"email": "\#(long)"}"#, #"{"email": 42}"#,
                    #"{}"#, #"{"email": "a@example.com", "plays": 3}"#,
                ] {
                    let reply = try await system.request(.POST, "/plays", json: body)
                    #expect(reply.status == 422, "\(body): \(reply.body)")
                    #expect(reply.headers.first(name: "Content-Type") == "application/problem+json")
                    #expect(reply.body.contains(#""field":"#), "\(reply.body)")
                }
                #expect(long.utf8.count > 254)
                for shard in Self.keys.allShards {
                    #expect(try await system.redis.zcard(Self.keys.contacts(shard: shard)) == 0)
                    #expect(try await system.redis.exists([Self.keys.contactOutbox(shard: shard)]) == 0)
                }
                #expect(esp.calls("GET") == 0)
            }
        }
    }

    @Test func administratorsListContactsAndErasureRemovesThemHereAndAtTheESP() async throws {
        try await withFakeESP { esp in
            try await withSystem(apiSettings: esp.settings) { system in
                let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
                #expect(seeded.status == 0, "\(seeded.output)")
                let admin = try await WalletEndToEndTests.logIn(system, "admin", "admin-password")
                let player = try await WalletEndToEndTests.logIn(system, "demo", "demo-password")
                let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: esp.settings)
                #expect(try await Self.play(system, "b+tag@example.com", token: player).status == 200)
                #expect(try await Self.play(system, "a@example.com").status == 200)
                #expect(try await Self.play(system, "a@example.com").status == 200)
                #expect(await eventually { esp.holds("a@example.com") && esp.holds("b+tag@example.com") })
                #expect(await eventually { try await Self.contactField(system, "b+tag@example.com", "sync") == "synced" })

                #expect(try await system.request(.GET, "/admin/contacts", token: player).status == 403)
                let page = try await system.request(.GET, "/admin/contacts?limit=1", token: admin)
                #expect(page.status == 200 && page.body.contains(#""email":"a@example.com","game_count":2,"user_id":null"#), "\(page.body)")
                let link = try #require(page.headers.first(name: "Link"))
                #expect(link == #"</admin/contacts?limit=1&cursor=a%40example.com>; rel="next""#)
                let next = try await system.request(.GET, "/admin/contacts?limit=1&cursor=a%40example.com", token: admin)
                #expect(
                    next.status == 200 && next.body.contains(#""email":"b+tag@example.com","game_count":1,"user_id":2"#), "\(next.body)")
                #expect(next.body.contains(#""sync_state":"synced""#) && next.headers.first(name: "Link") == nil, "\(next.body)")

                let erased = try await system.request(.DELETE, "/admin/contacts/B%2Btag%40Example.com", token: admin)
                #expect(erased.status == 204, "\(erased.body)")
                #expect(try await system.request(.DELETE, "/admin/contacts/b%2Btag%40example.com", token: admin).status == 404)
                #expect(try await system.request(.DELETE, "/admin/contacts/not-an-address", token: admin).status == 404)
                #expect(try await system.redis.exists([Self.keys.contact(EmailAddress.subscriberHash(of: "b+tag@example.com"))]) == 0)
                #expect(await eventually { !esp.holds("b+tag@example.com") })
                #expect(esp.calls("POST", "b+tag@example.com") == 1 && esp.holds("a@example.com"))
                let listing = try await system.request(.GET, "/admin/contacts", token: admin)
                #expect(!listing.body.contains("b+tag") && listing.body.contains("a@example.com"), "\(listing.body)")
                // A new play of the erased address starts it over.
                let back = try await Self.play(system, "b+tag@example.com")
                #expect(
                    back["in_db"] == .bool(false) && back["in_esp"] == .bool(false) && back["game_count"] == .number("1"), "\(back.body)")
                #expect(await worker.stop() == 0)
            }
        }
    }
}

extension ContactEndToEndTests {
    @Test func retriesHonourRetryAfterAndGiveUpAfterTheConfiguredAttempts() async throws {
        try await withFakeESP { esp in
            let settings = esp.settings.merging([
                "ESP_RETRY_INITIAL_MS": "10", "ESP_RETRY_MAX_MS": "20", "ESP_MAX_ATTEMPTS": "3",
            ]) { $1 }
            try await withSystem(apiSettings: settings) { system in
                // 429 with Retry-After: 30 s: the retry waits that long, not the 10-20 ms backoff.
                #expect(try await Self.play(system, "limited@example.com").status == 200)
                esp.setBehaviour(.init(status: 429, retryAfter: 30))
                let worker = try await BetMakerProcesses.startWorker(redis: system.deployment, settings: settings)
                let limited = Self.shard("limited@example.com")
                #expect(await eventually { try await system.redis.zcard(Self.keys.contactOutboxRetries(shard: limited)) == 1 })
                let due = try #require(
                    try await system.redis.zrangeByScore(
                        Self.keys.contactOutboxRetries(shard: limited), min: .negativeInfinity, max: .positiveInfinity, limit: (0, 1)
                    ).first?.score)
                #expect(Int64(due) - currentMilliseconds() > 25_000, "due in \(Int64(due) - currentMilliseconds()) ms")
                #expect(try await Self.contactField(system, "limited@example.com", "last_error") == "HTTP 429, Retry-After 30 s")
                #expect(esp.calls("PUT", "limited@example.com") == 1)

                // 500 every time: three calls (ESP_MAX_ATTEMPTS), then the dead letter and `failed`.
                esp.setBehaviour(.init(status: 500))
                #expect(try await Self.play(system, "doomed@example.com").status == 200)
                #expect(await eventually { try await Self.contactField(system, "doomed@example.com", "sync") == "failed" })
                #expect(esp.calls("PUT", "doomed@example.com") == 3)
                #expect(try await Self.contactField(system, "doomed@example.com", "last_error") == "HTTP 500 after 3 attempts")
                let dead = try await system.redis.xrange(Self.keys.contactOutboxDeadLetters(shard: Self.shard("doomed@example.com")))
                #expect(dead.count == 1 && dead.first?.fields?["op"] == "create" && dead.first?.fields?["attempts"] == "3")
                #expect(dead.first?.fields?.values.contains { $0.contains("doomed") } == false, "no address in the dead letter")
                // The limited one still waits for its turn, untouched by the other's failures.
                #expect(esp.calls("PUT", "limited@example.com") == 1)
                #expect(worker.output.contains("moved to the dead-letter stream") && worker.output.contains("d***@example.com"))
                #expect(await worker.stop() == 0)
            }
        }
    }
}
