import BetMaker
import BetMakerAPI
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RedisClient
import TestSupport
import Testing

/// Names rather than ids, times as `<time>`, and the empty states.
extension WebUITests {
    @Test func theCatalogueNamesTradersAndOffersOnlyActiveTradersToAssign() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let tess = try await AuthAPITests.user("tess", redis: redis, client: client)
            let troy = try await AuthAPITests.user("troy", redis: redis, client: client)
            let pat = try await AuthAPITests.user("pat", redis: redis, client: client)
            let adminCookie = try await Self.cookie("root", client: client)
            let empty = try await client.get("/ui/operator/events", headers: [.cookie: adminCookie]).text
            #expect(empty.contains("The catalogue is empty.") && !empty.contains("<table"), "an empty catalogue says what to do")

            let accounts = AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
            for user in [tess, troy] { _ = try await accounts.update(userID: user.userID, role: .trader) }
            try await AuthAPITests.openEvent("derby", admin: admin.token, client: client)
            try await AuthAPITests.openEvent("final", admin: admin.token, client: client)
            #expect(
                try await EventWorkflowStore(redis: redis, keys: RedisKeys(prefix: "t:")).assign(eventID: "derby", traderID: tess.userID)
                    == .changed)
            _ = try await accounts.update(userID: troy.userID, active: false)

            let page = try await client.get("/ui/operator/events", headers: [.cookie: adminCookie]).text
            func row(_ id: String) -> Substring {
                page.split(separator: "<tr data-event-id=").first { $0.hasPrefix(#""\#(id)">"#) } ?? ""
            }
            #expect(row("derby").contains(#"<td data-label="Trader" data-trader>tess</td>"#), "the trader by login")
            #expect(row("final").contains(#"<td data-label="Trader" data-trader></td>"#))
            // The assign form lists active traders by login, the assigned one chosen; no disabled trader, no player.
            #expect(row("derby").contains(#"<option value="\#(tess.userID)" selected>tess</option>"#), "\(row("derby"))")
            #expect(row("final").contains(#"<option value="\#(tess.userID)">tess</option>"#))
            #expect(!page.contains(">troy</option>") && !page.contains(">pat</option>") && !page.contains(#"value="\#(pat.userID)""#))
            // Manage is a dialog, not the row's height; the time is the exact UTC for the script to show locally.
            #expect(row("derby").contains(#"<dialog class="manage" data-manage-dialog aria-labelledby="manage-derby">"#))
            #expect(row("derby").contains(#"<time datetime="2030-01-01T18:00:00.000Z" data-time="relative">2030-01-01 18:00 UTC</time>"#))

            // Without an active trader the form says what to do instead.
            _ = try await accounts.update(userID: tess.userID, role: .player)
            let none = try await client.get("/ui/operator/events", headers: [.cookie: adminCookie]).text
            #expect(none.contains("No active trader to assign.") && !none.contains(#"<select name="trader_id""#))
            #expect(none.contains(#"data-trader>tess</td>"#), "a former trader is still named")
        }
    }

    @Test func myBetsNameTheEventAndEmptyPagesSayWhatToDo() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            let cookie = try await Self.cookie("alice", client: client)
            let first = try await client.get("/ui/bets", headers: [.cookie: cookie]).text
            #expect(first.contains("No bets yet.") && first.contains(#"<a href="/ui/events">Events</a>"#))
            #expect(try await client.get("/ui/events", headers: [.cookie: cookie]).text.contains("No event takes bets right now."))
            #expect(try await client.get("/ui/wallet", headers: [.cookie: cookie]).text.contains("No transactions yet."))
            #expect(try await client.get("/ui/trades", headers: [.cookie: cookie]).text.contains("No trades yet."))
            let adminCookie = try await Self.cookie("root", client: client)
            #expect(try await client.get("/ui/operator/dead-letters", headers: [.cookie: adminCookie]).text.contains("No dead letters"))
            #expect(try await client.get("/ui/operator/contacts", headers: [.cookie: adminCookie]).text.contains("No contacts yet."))

            try await AuthAPITests.deposit(10_00, to: alice, redis: redis)
            try await AuthAPITests.openEvent("derby", admin: admin.token, client: client)
            #expect(try await client.postJSON("/bets", Self.bet, headers: Self.sameSite(cookie)).status == .created)
            let bets = try await client.get("/ui/bets", headers: [.cookie: cookie]).text
            #expect(bets.contains(#"<span class="name">Derby</span>"#), "the event by title (openEvent's): \(bets)")
            let won = try await client.get("/ui/bets?status=won", headers: [.cookie: cookie]).text
            #expect(won.contains("No won bets.") && won.contains(#"<a href="/ui/bets">Show all bets</a>"#))
        }
    }
}
