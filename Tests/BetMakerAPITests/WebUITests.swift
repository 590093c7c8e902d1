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

/// The web UI through the API's router against a real Redis: the CSRF rule for cookie sessions, the
/// security headers, escaping, the role checks and the assets' caching. The browser tests
/// (`Tests/browser`) drive the same pages in Chromium.
@Suite struct WebUITests {
    static let password = AuthAPITests.password
    /// The router tests' requests go to `localhost` (their authority), so this is the API's own origin.
    static let origin = "http://localhost"

    /// A user's session cookie, from `POST /auth?cookie=true`.
    static func cookie(_ login: String, client: some TestClientProtocol) async throws -> String {
        let response = try await client.postJSON("/auth?cookie=true", #"{"login": "\#(login)", "password": "\#(password)"}"#)
        let setCookie = try #require(response.headers[.setCookie], "\(response.status) \(response.text)")
        return String(setCookie.prefix { $0 != ";" })
    }

    /// What a browser page of this site sends with a write.
    static func sameSite(_ cookie: String) -> HTTPFields {
        [.cookie: cookie, .origin: origin, .xRequestedWith: "bet-maker", .contentType: "application/json"]
    }

    static let bet = #"{"event_id": "derby", "amount": "1.00"}"#

    // MARK: CSRF

    @Test func cookieWritesNeedTheHeaderAndThisSitesOriginAndBearerClientsAreUnaffected() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            try await AuthAPITests.deposit(10_00, to: alice, redis: redis)
            try await AuthAPITests.openEvent("derby", admin: admin.token, client: client)
            let cookie = try await Self.cookie("alice", client: client)
            let full = Self.sameSite(cookie)

            // Forged: without the header (a cross-site form), from another origin, or with no origin at all.
            var forgeries: [(String, HTTPFields)] = []
            var noHeader = full
            noHeader[.xRequestedWith] = nil
            forgeries.append(("no X-Requested-With", noHeader))
            var otherOrigin = full
            otherOrigin[.origin] = "http://evil.example"
            forgeries.append(("another origin", otherOrigin))
            var sameHostOtherPort = full
            sameHostOtherPort[.origin] = "http://localhost:9999"
            forgeries.append(("another port", sameHostOtherPort))
            var noOrigin = full
            noOrigin[.origin] = nil
            forgeries.append(("no Origin", noOrigin))
            var crossSiteFetch = noOrigin
            crossSiteFetch[.secFetchSite] = "cross-site"
            forgeries.append(("Sec-Fetch-Site: cross-site", crossSiteFetch))
            for (what, headers) in forgeries {
                let refused = try await client.postJSON("/bets", Self.bet, headers: headers)
                #expect(refused.status == .forbidden && refused["type"]?.string == "/problems/csrf", "\(what): \(refused.text)")
            }
            // Nothing was placed or debited by any of them.
            let me = try await client.get("/users/me", headers: AuthAPITests.bearer(alice.token))
            #expect(me.text.contains(#""balance":"10.00""#), "\(me.text)")

            // The page's own request passes, and so does a same-origin one that names no Origin.
            let placed = try await client.postJSON("/bets", Self.bet, headers: full)
            #expect(placed.status == .created, "\(placed.text)")
            var fetchMetadata = noOrigin
            fetchMetadata[.secFetchSite] = "same-origin"
            #expect(try await client.postJSON("/bets", Self.bet, headers: fetchMetadata).status == .created)
            // Reading with the cookie needs neither.
            #expect(try await client.get("/users/me", headers: [.cookie: cookie]).status == .ok)
            // A bearer client sends neither header and is unaffected.
            let bearer = try await client.postJSON("/bets", Self.bet, headers: AuthAPITests.bearer(alice.token))
            #expect(bearer.status == .created, "\(bearer.text)")
        }
    }

    @Test func withAPublicBaseURLTheOriginMustBeThatOne() async throws {
        try await withAPI(configure: { $0.publicBaseURL = "https://bets.example.com/api" }) { client, _, redis in
            _ = try await AuthAPITests.user("alice", redis: redis, client: client)
            let cookie = try await Self.cookie("alice", client: client)
            var headers = Self.sameSite(cookie)
            // The host the request reached (behind a proxy) is not what the browser saw.
            let refused = try await client.postJSON("/plays", #"{"email": "a@example.com"}"#, headers: headers)
            #expect(refused.status == .forbidden && refused["type"]?.string == "/problems/csrf")
            headers[.origin] = "https://bets.example.com"
            let accepted = try await client.postJSON("/plays", #"{"email": "a@example.com"}"#, headers: headers)
            #expect(accepted.status == .ok, "\(accepted.text)")
        }
    }

    // MARK: Pages

    static let uiRoutes = [
        "/ui/login", "/ui/register", "/ui/activate/abc", "/ui/events", "/ui/bets", "/ui/bets?status=won", "/ui/wallet", "/ui/trades",
        "/ui/operator/events", "/ui/operator/users", "/ui/operator/dead-letters", "/ui/operator/contacts", "/ui/trader/events", "/ui/",
        "/ui/nope",
    ]

    @Test func everyUIResponseCarriesTheSecurityHeadersAndPagesAreNotStored() async throws {
        try await withAPI { client, _, redis in
            _ = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let cookie = try await Self.cookie("root", client: client)
            for credentials in [[:], [HTTPField.Name.cookie: cookie]] as [HTTPFields] {
                for uri in Self.uiRoutes + ["/", "/ui/assets/app.js", "/ui/assets/app.css"] {
                    let response = try await client.get(uri, headers: credentials)
                    let what = "\(uri) (\(credentials.isEmpty ? "anonymous" : "admin")): \(response.status)"
                    if uri == "/ui/nope" {
                        #expect(response.status == .notFound, "\(what)")
                        continue
                    }
                    #expect(
                        response.headers[.contentSecurityPolicy]
                            == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                            + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'", "\(what)")
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(what)")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(what)")
                    if !uri.hasPrefix("/ui/assets/") { #expect(response.headers[.cacheControl] == "no-store", "\(what)") }
                    if response.headers[.contentType]?.hasPrefix("text/html") == true {
                        // No inline script or style for the policy to refuse.
                        #expect(
                            !response.text.contains("<script>") && !response.text.contains("<style") && !response.text.contains("style="))
                    }
                }
            }
            // Anonymous: a page with personal data sends the browser to log in.
            let anonymous = try await client.get("/ui/bets")
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/ui/login")
            let stale = try await client.get("/ui/bets", headers: [.cookie: "betmaker_token=stale"])
            #expect(stale.status == .seeOther && stale.headers[.location] == "/ui/login")
            let root = try await client.get("/")
            #expect(root.status == .seeOther && root.headers[.location] == "/ui/")
        }
    }

    @Test func operatorPagesAreRefusedToPlayersWhateverTheLinksShow() async throws {
        try await withAPI { client, _, redis in
            _ = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            _ = try await AuthAPITests.user("alice", redis: redis, client: client)
            let player = try await Self.cookie("alice", client: client)
            let admin = try await Self.cookie("root", client: client)
            let refused = try await client.get("/ui/operator/events", headers: [.cookie: player])
            #expect(refused.status == .forbidden && refused.headers[.contentType] == "text/html; charset=utf-8")
            #expect(refused.text.contains("administrator"), "\(refused.text)")
            let events = try await client.get("/ui/events", headers: [.cookie: player])
            #expect(events.status == .ok && !events.text.contains("/ui/operator"), "a player sees no operator link")
            #expect(try await client.get("/ui/trader/events", headers: [.cookie: player]).status == .forbidden, "traders only")
            #expect(try await client.get("/ui/operator/users", headers: [.cookie: player]).status == .forbidden)
            let users = try await client.get("/ui/operator/users", headers: [.cookie: admin])
            #expect(users.status == .ok && users.text.contains(#"data-user-change="disable""#) && users.text.contains("alice"))
            let operatorPage = try await client.get("/ui/operator/events", headers: [.cookie: admin])
            #expect(operatorPage.status == .ok)
            #expect(try await client.get("/ui/events", headers: [.cookie: admin]).text.contains(#"href="/ui/operator/events""#))
        }
    }

    /// A resulted event takes no bets and offers no report buttons: the page shows what the API would do.
    @Test func aResultedEventIsShownClosedWithoutReportButtons() async throws {
        try await withAPI { client, _, redis in
            _ = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let admin = try await Self.cookie("root", client: client)
            for id in ["still-open", "reported"] {
                let created = try await client.postJSON(
                    "/admin/events",
                    #"{"id": "\#(id)", "title": "T", "home_team": "A", "away_team": "B", "starts_at": "2030-01-01T18:00:00Z", "odds": "1.85"}"#,
                    headers: Self.sameSite(admin))
                #expect(created.status == .created, "\(created.text)")
            }
            let reported = try await client.execute(
                uri: "/events/reported", method: .put, headers: Self.sameSite(admin), body: ByteBuffer(string: #"{"status": "WIN"}"#))
            #expect(reported.status == .accepted, "\(reported.text)")
            let page = try await client.get("/ui/operator/events", headers: [.cookie: admin]).text
            // The event's table row: from its opening tag to the next row's.
            func row(_ id: String) -> Substring {
                page.split(separator: "<tr data-event-id=").first { $0.hasPrefix(#""\#(id)">"#) } ?? ""
            }
            #expect(row("still-open").contains("taking bets") && row("still-open").contains(#"data-report="WIN""#))
            #expect(row("reported").contains("resulted") && !row("reported").contains("taking bets"), "\(row("reported"))")
            #expect(!row("reported").contains(#"data-report="WIN""#), "\(row("reported"))")
        }
    }

    @Test func deadLettersAndContactsAreListedForOperatorsOnly() async throws {
        try await withAPI { client, _, redis in
            _ = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            let queue = SettlementQueue(redis: redis, keys: RedisKeys(prefix: "t:"))
            try await queue.deadLetter(
                StreamEntry(id: "1-0", fields: ["event_id": "final", "result": "WIN", "reported_at": "1"]),
                shard: 0, reason: "<script>alert(3)</script>", deliveries: 11)
            let played = try await client.postJSON(
                "/plays", #"{"email": "jo@example.com"}"#, headers: AuthAPITests.bearer(alice.token))
            #expect(played.status == .ok, "\(played.text)")
            let player = try await Self.cookie("alice", client: client)
            let admin = try await Self.cookie("root", client: client)
            for uri in ["/ui/operator/dead-letters", "/ui/operator/contacts"] {
                let refused = try await client.get(uri, headers: [.cookie: player])
                #expect(refused.status == .forbidden && refused.headers[.contentType] == "text/html; charset=utf-8", "\(uri)")
                #expect(refused.text.contains("administrator") && !refused.text.contains("jo@example.com"), "\(uri): \(refused.text)")
            }
            #expect(!(try await client.get("/ui/events", headers: [.cookie: player])).text.contains("/ui/operator/dead-letters"))

            let letters = try await client.get("/ui/operator/dead-letters", headers: [.cookie: admin])
            #expect(letters.status == .ok && letters.text.contains(#"href="/ui/operator/dead-letters" aria-current="page""#))
            #expect(
                letters.text.contains("data-dead-letter-id=")
                    && letters.text.contains(#"<button type="button" data-retry aria-label="Re-drive"#))
            #expect(letters.text.contains("event_id=final") && letters.text.contains("result=WIN"))
            #expect(letters.text.contains(#"<td data-label="Deliveries" class="num">11</td>"#))
            #expect(!letters.text.contains("<script>alert") && letters.text.contains("&lt;script&gt;alert(3)&lt;/script&gt;"))
            let contacts = try await client.get("/ui/operator/contacts", headers: [.cookie: admin])
            #expect(contacts.status == .ok && contacts.text.contains(#"<tr data-contact="jo@example.com">"#), "\(contacts.text)")
            #expect(contacts.text.contains(#"<td data-label="Plays" class="num" data-plays>1</td>"#), "the play count")
            #expect(contacts.text.contains(#"<td data-label="User" data-contact-user>alice</td>"#), "the user by login, not by id")
            #expect(
                contacts.text.contains("<span data-sync>pending</span>") || contacts.text.contains("<span data-sync>synced</span>"),
                "the ESP sync state")
        }
    }

    @Test func aDisabledPlayersPageSaysWhy() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            let cookie = try await Self.cookie("alice", client: client)
            let disabled = try await client.execute(
                uri: "/admin/users/\(alice.userID)", method: .patch,
                headers: AuthAPITests.bearer(admin.token) + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"active": false}"#))
            #expect(disabled.status == .ok)
            let page = try await client.get("/ui/bets", headers: [.cookie: cookie])
            #expect(page.status == .forbidden && page.text.contains("An administrator has disabled this account."), "\(page.text)")
        }
    }

    @Test func scriptInALoginAnEventTitleAndATeamNameIsShownAsText() async throws {
        try await withAPI { client, _, redis in
            // Logins the API accepts cannot hold `<`; one stored by other means must still be harmless.
            let accounts = AccountStore(redis: redis, keys: RedisKeys(prefix: "t:"))
            let hash = try await Passwords(cost: 10).hash(Self.password)
            let login = "<script>alert(1)</script>"
            guard case .created(let user, _, _) = try await accounts.register(login: login, passwordHash: hash, role: .admin, active: true)
            else { throw TestSupportError("not registered") }
            // POST /auth refuses such a login, so the token is made by hand with the tests' secret.
            let now = Int(currentMilliseconds() / 1000)
            let token = AuthAPITests.signed(
                header: #"{"alg":"HS256","typ":"JWT"}"#,
                claims: #"{"sub":"\#(user.id)","iat":\#(now),"exp":\#(now + 600),"jti":"\#(AuthAPITests.tokenID)"}"#,
                secret: BetMakerProcesses.testJWTSecret)
            let created = try await client.postJSON(
                "/admin/events",
                #"{"id": "x", "title": "<script>alert('title')</script>", "home_team": "<img src=x onerror=alert(2)>", "#
                    + #""away_team": "\"&'", "starts_at": "2030-01-01T18:00:00Z", "odds": "1.85"}"#,
                headers: AuthAPITests.bearer(token))
            #expect(created.status == .created, "\(created.text)")
            let cookie = "betmaker_token=\(token)"
            let trades = try await client.get("/ui/trades", headers: [.cookie: cookie])
            #expect(trades.status == .ok && !trades.text.contains("<script>alert") && trades.text.contains("&lt;script&gt;alert(1)"))
            for uri in ["/ui/events", "/ui/operator/events"] {
                let page = try await client.get(uri, headers: [.cookie: cookie])
                #expect(page.status == .ok)
                #expect(!page.text.contains("<script>alert") && !page.text.contains("<img src=x"), "\(uri): \(page.text)")
                #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the login, as text")
                #expect(
                    page.text.contains("&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;") || page.text.contains("&lt;script&gt;alert("))
                #expect(page.text.contains("&lt;img src=x onerror=alert(2)&gt;"), "the team name, as text")
                #expect(page.text.contains("&quot;&amp;"), "quotes and ampersands too")
                if uri == "/ui/operator/events" {
                    #expect(page.text.contains(#"<input name="home_team" value="&lt;img src=x onerror=alert(2)&gt;""#), "in an attribute")
                }
            }
        }
    }

    @Test func pagesShowThePlayersOwnBetsAndWallet() async throws {
        try await withAPI { client, _, redis in
            let admin = try await AuthAPITests.user("root", role: .admin, redis: redis, client: client)
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            try await AuthAPITests.deposit(10_00, to: alice, redis: redis)
            try await AuthAPITests.openEvent("derby", admin: admin.token, client: client)
            let cookie = try await Self.cookie("alice", client: client)
            let placed = try await client.postJSON("/bets", Self.bet, headers: Self.sameSite(cookie))
            let betID = try #require(placed["id"]?.string)
            let events = try await client.get("/ui/events", headers: [.cookie: cookie])
            #expect(events.text.contains(#"data-event-id="derby""#) && events.text.contains(#"data-odds="1.85""#))
            #expect(events.text.contains("9.00"), "the balance after the stake")
            let bets = try await client.get("/ui/bets", headers: [.cookie: cookie])
            #expect(bets.text.contains(#"data-bet-id="\#(betID)""#) && bets.text.contains("pending"))
            #expect(!(try await client.get("/ui/bets?status=won", headers: [.cookie: cookie])).text.contains(betID), "the filter")
            let wallet = try await client.get("/ui/wallet", headers: [.cookie: cookie])
            #expect(wallet.text.contains("deposit") && wallet.text.contains("stake") && wallet.text.contains("-1.00"))
        }
    }

    @Test func theTradeScreenShowsPricesTheFormAndThePlayersOwnTradesOpenAndClosed() async throws {
        try await withAPI { client, _, redis in
            let alice = try await AuthAPITests.user("alice", redis: redis, client: client)
            let bob = try await AuthAPITests.user("bob", redis: redis, client: client)
            for user in [alice, bob] { try await AuthAPITests.deposit(100_00, to: user, redis: redis) }
            let keys = RedisKeys(prefix: "t:")
            let trades = TradeStore(redis: redis, keys: keys, ids: IDGenerator(node: 3))
            try await trades.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            let cookie = try await Self.cookie("alice", client: client)
            func place(_ leverage: Int, _ headers: HTTPFields) async throws -> String {
                let order = #"{"symbol": "BTC", "direction": "up", "amount": "10.00", "leverage": \#(leverage), "duration": 60}"#
                let placed = try await client.postJSON("/trades", order, headers: headers)
                return try #require(placed["id"]?.string, "\(placed.text)")
            }
            let open = try await place(1, Self.sameSite(cookie))
            let stopped = try await place(10, Self.sameSite(cookie))
            let bobs = try await place(1, AuthAPITests.bearer(bob.token))
            // The next tick opens them; at -10 % the leverage-10 trade is stopped out, as the worker does.
            let settler = TradeSettler(redis: redis, keys: keys)
            try await trades.prices.record(symbol: "BTC", price: Price(units: 5_000_000_000_000), source: "test")
            #expect(try await settler.process(symbol: "BTC").opened == 3)
            try await trades.prices.record(symbol: "BTC", price: Price(units: 4_500_000_000_000), source: "test")
            #expect(try await settler.process(symbol: "BTC").stoppedOut == 1)
            let pending = try await place(2, Self.sameSite(cookie))

            let page = try await client.get("/ui/trades", headers: [.cookie: cookie])
            #expect(page.status == .ok && page.text.contains(#"<body data-live="trades">"#))
            #expect(page.text.contains(#"href="/ui/trades" aria-current="page">Trades</a>"#), "in the player's navigation")
            #expect(page.text.contains(#"data-quote="BTC" data-price="45000.00000000">45000.00000000<"#), "the latest price")
            #expect(page.text.contains(#"data-quote="ETH" data-price="–">–<"#), "a symbol without a price yet")
            // The chart starts from the recent ticks (time in ms, price), oldest first; ETH has none.
            let points = try #require(
                page.text.firstRange(of: #"data-ticks="BTC" data-points=""#).map { page.text[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(
                points.split(separator: " ").map { $0.split(separator: ":").last ?? "" }
                    == ["50000.00000000", "50000.00000000", "45000.00000000"],
                "\(points)")
            #expect(page.text.contains(#"data-ticks="ETH" data-points="""#))
            #expect(page.text.contains(#"<form data-form="trade""#) && page.text.contains("Leverage (1 to 100)"))
            // The open trade counts down to its expiry; the closed one shows its result and end price.
            let openRow = try #require(page.text.firstRange(of: #"data-trade-id="\#(open)""#), "\(page.text)")
            #expect(page.text[openRow.upperBound...].hasPrefix(#" data-symbol="BTC" data-expires="1"#))
            let stoppedRow = try #require(page.text.firstRange(of: #"data-trade-id="\#(stopped)""#))
            let stoppedText = String(page.text[stoppedRow.upperBound...].prefix(1500))
            #expect(stoppedText.hasPrefix(#" data-symbol="BTC" data-expires="""#), "closed: nothing to count down")
            #expect(
                stoppedText.contains(#"data-start-price="50000.00000000""#) && stoppedText.contains(#"data-stop-price="45000.00000000""#))
            #expect(
                stoppedText.contains(#"data-status>lost<"#)
                    && stoppedText.contains(#"data-end data-price="45000.00000000">45000.00000000</td>"#))
            #expect(stoppedText.contains("data-profit>-10.00</td>") && stoppedText.contains("data-trade-payout>0.00</td>"))
            // The pending one waits for the next price: no start, nothing to count down yet.
            let pendingRow = try #require(page.text.firstRange(of: #"data-trade-id="\#(pending)""#))
            let pendingText = String(page.text[pendingRow.upperBound...].prefix(1500))
            #expect(
                pendingText.hasPrefix(#" data-symbol="BTC" data-expires="" data-start-price="""#) && pendingText.contains(" data-pending>"))
            #expect(pendingText.contains(">next price</td>") && pendingText.contains(">opens at the next price</td>"))
            #expect(pendingText.contains(#"data-status>pending<"#))
            #expect(!page.text.contains(bobs), "another player's trade is not shown")
            #expect(page.text.contains(#"<strong data-balance aria-live="polite">70.00</strong>"#))
        }
    }

    // MARK: Assets

    @Test func assetsHaveAStrongETagAndAnswer304() async throws {
        try await withAPI { client, _, _ in
            for path in ["/ui/assets/app.js", "/ui/assets/app.css"] {
                let first = try await client.get(path)
                #expect(first.status == .ok && first.headers[.cacheControl] == "public, max-age=3600")
                let etag = try #require(first.headers[.eTag])
                #expect(etag.hasPrefix("\"") && etag.count == 34, "strong: no W/ prefix")
                let again = try await client.get(path, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified && again.body.readableBytes == 0 && again.headers[.eTag] == etag)
                let changed = try await client.get(path, headers: [.ifNoneMatch: "\"other\""])
                #expect(changed.status == .ok && changed.body.readableBytes > 0)
                // Pages link the version they were built with.
                let page = try await client.get("/ui/login")
                #expect(page.text.contains("\(path)?v=\(etag.dropFirst().dropLast())"))
            }
        }
    }
}

extension HTTPField.Name {
    static let xRequestedWith = HTTPField.Name("X-Requested-With")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
