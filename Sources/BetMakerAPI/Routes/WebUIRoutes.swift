import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import ServiceLifecycle

/// `/ui/...`: the web UI's pages, rendered here from `WebUITemplates` with what the stores hold, and
/// its two assets. The pages only show; every action is the page's script calling the API's own
/// endpoints. Pages with personal data need the session cookie (a missing or stale one sends the
/// browser to the login page); operator pages need an administrator, and anybody else gets a 403
/// page whatever links they follow.
struct WebUIRoutes {
    let bets: BetStore
    let accounts: AccountStore
    let catalogue: CatalogueStore
    let trades: TradeStore
    /// What the trade form offers (the trade routes' limits).
    let symbols: [String]
    let maximumLeverage: Int
    let durations: ClosedRange<Int>
    let deadLetters: SettlementQueue
    let contacts: ContactStore
    let feed: LiveFeed

    static let pageSize = 50

    /// `stream` is `/ui/stream`, authenticated but outside the pages' middleware: an `EventSource` is
    /// told 401 as problem+json rather than sent to the login page.
    func register(
        on router: Router<APIRequestContext>, ui: RouterGroup<APIRequestContext>, authenticated: RouterGroup<APIRequestContext>,
        stream: RouterGroup<APIRequestContext>
    ) {
        stream.get(use: liveUpdates)
        router.get("/") { _, _ in
            var response = Self.redirect("/ui/")
            WebUIMiddleware.secure(&response.headers, isAsset: false)
            return response
        }
        for asset in WebUIAsset.all {
            ui.get(RouterPath(String(asset.path.dropFirst("/ui/".count)))) { request, _ in asset.response(to: request) }
        }
        ui.get("login") { _, context in try Self.page("login", title: "Log in", identity: context.identity) }
        ui.get("register") { _, context in try Self.page("register", title: "Register", identity: context.identity) }
        ui.get("activate/{token}") { _, context in
            try Self.page("activate", title: "Activate your account", identity: context.identity, ["token": try context.parameter("token")])
        }
        authenticated.get("/") { _, context in
            let identity = try context.requireUser()
            switch identity.role {
            case .admin: return Self.redirect("/ui/operator/events")
            case .trader: return Self.redirect("/ui/trader/events")
            case .player: return Self.redirect("/ui/events")
            }
        }
        authenticated.get("events", use: events)
        authenticated.get("bets", use: myBets)
        authenticated.get("wallet", use: wallet)
        authenticated.get("trades", use: tradesPage)
        authenticated.get("operator/events", use: operatorEvents)
        authenticated.get("trader/events", use: traderEvents)
        authenticated.get("operator/users", use: operatorUsers)
        authenticated.get("operator/dead-letters", use: operatorDeadLetters)
        authenticated.get("operator/contacts", use: operatorContacts)
    }

    @Sendable func events(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let (events, _) = try await catalogue.list(openOnly: true, limit: 100, after: nil)
        var values: [String: Any] = ["events": events.map(Self.fields)]
        if let shown = try await balance(identity) { values["balance"] = shown }
        return try Self.page("events", title: "Events", identity: context.identity, values, live: "bets")
    }

    @Sendable func myBets(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        var filter = BetStore.Filter()
        let status = request.uri.queryParameters.get("status").flatMap { BetStatus(rawValue: String($0)) }
        filter.status = status
        let cursor = Self.cursor(request, isValid: NewestFirstPages.isValidCursor)
        let page = try await bets.list(filter, scope: .user(identity.userID), limit: Self.pageSize, cursor: cursor)
        return try Self.page(
            "bets", title: "My bets", identity: context.identity,
            Self.betsPage(page.bets, next: page.nextCursor, status: status, balance: try await balance(identity)), live: "bets")
    }

    /// The my-bets page's values; separate so that `make bench` can time a render of 50 bets.
    static func betsPage(_ bets: [Bet], next: String?, status: BetStatus?, balance: String?) -> [String: Any] {
        var values: [String: Any] = [
            "bets": bets.map { bet -> [String: Any] in
                [
                    "id": bet.id, "eventID": bet.eventID, "amount": bet.amount.description, "status": bet.status.rawValue,
                    "odds": bet.wager?.odds.description ?? "", "payout": bet.wager?.payout.description ?? "",
                    "createdAt": Timestamp.rfc3339(bet.createdAt),
                ]
            },
            "statuses": [["value": "", "label": "all", "selected": status == nil] as [String: Any]]
                + BetStatus.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == status] as [String: Any] },
        ]
        if let balance { values["balance"] = balance }
        if let next {
            values["next"] = "/ui/bets?cursor=\(next)" + (status.map { "&status=\($0.rawValue)" } ?? "")
        }
        return values
    }

    @Sendable func wallet(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let cursor = Self.cursor(request, isValid: AccountStore.isValidLedgerCursor)
        let userAccounts = try await accounts.accounts(userID: identity.userID)
        let ledger = try await accounts.transactions(userID: identity.userID, limit: Self.pageSize, before: cursor)
        var values: [String: Any] = [
            "accounts": userAccounts.map { ["id": String($0.id), "balance": $0.balance.description] },
            "transactions": ledger.transactions.map(Self.fields),
        ]
        if let next = ledger.nextCursor { values["next"] = "/ui/wallet?cursor=\(next)" }
        return try Self.page("wallet", title: "Wallet", identity: context.identity, values)
    }

    /// The trade screen: each symbol's latest price, the order form, the caller's trades (newest first).
    @Sendable func tradesPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let cursor = Self.cursor(request, isValid: NewestFirstPages.isValidCursor)
        let quotes = try await trades.prices.quotes(symbols)
        let page = try await trades.list(userID: identity.userID, status: nil, limit: Self.pageSize, cursor: cursor)
        var values: [String: Any] = [
            "quotes": symbols.map { symbol in
                ["symbol": symbol, "price": quotes.first { $0.symbol == symbol }?.tick.price.description ?? "–"]
            },
            "trades": page.trades.map(Self.fields),
            "maximumLeverage": String(maximumLeverage), "minimumDuration": String(durations.lowerBound),
            "maximumDuration": String(durations.upperBound),
        ]
        if let shown = try await balance(identity) { values["balance"] = shown }
        if let next = page.nextCursor { values["next"] = "/ui/trades?cursor=\(next)" }
        return try Self.page("trades", title: "Trades", identity: context.identity, values, live: "trades")
    }

    static func fields(_ trade: Trade) -> [String: Any] {
        [
            "id": trade.id, "symbol": trade.symbol, "direction": trade.direction.rawValue, "stake": trade.stake.description,
            "leverage": String(trade.leverage), "startPrice": trade.start.price.description,
            // Open: the script counts down to it; closed: the time it expired.
            "expiresAt": trade.status == .open ? String(trade.expiresAt) : "", "expires": Timestamp.rfc3339(trade.expiresAt),
            "status": trade.status.rawValue, "endPrice": trade.end?.price.description ?? "", "profit": trade.profit?.description ?? "",
            "payout": trade.payout?.description ?? "",
        ]
    }

    /// `GET /ui/stream`: the caller's live updates as Server-Sent Events. The browser is subscribed
    /// before it is caught up, so nothing falls between the two; what both hold is sent once (ids
    /// only go up). With a `Last-Event-ID` the stream no longer reaches back to, it gets `reset`.
    @Sendable func liveUpdates(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let isOperator = identity.role == .admin
        let subscription = feed.subscribe(userID: identity.userID, isOperator: isOperator)
        let lastEventID = request.headers[.lastEventID]
        // What the browser missed since its last event, or nil when that is no longer known (reset).
        let missed: [LiveFeed.Message]? =
            if let lastEventID {
                try await feed.entries(after: lastEventID)?.compactMap {
                    LiveFeed.message(for: $0, userID: identity.userID, isOperator: isOperator)
                }
            } else {
                []
            }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        WebUIMiddleware.secure(&headers, isAsset: true)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ServerSentEvents.retry)
                if missed == nil { try await writer.write(ServerSentEvents.reset) }
                var sent = missed == nil ? nil : lastEventID
                for message in missed ?? [] {
                    if case .event(let id, _, _) = message { sent = id }
                    try await writer.write(ServerSentEvents.frame(message))
                }
                // The handler runs under the HTTP server's service, which on SIGTERM waits for responses in
                // flight: the stream ends then, rather than holding the shutdown up.
                try await withGracefulShutdownHandler {
                    for await message in subscription.messages {
                        if case .event(let id, _, _) = message {
                            if let sent, !StreamID.precedes(sent, id) { continue }
                            sent = id
                        }
                        try await writer.write(ServerSentEvents.frame(message))
                    }
                } onGracefulShutdown: { [feed] in
                    feed.end(subscription.id)
                }
                try await writer.finish(nil)
            })
    }

    /// `?cursor=`, when it is one the listing could have handed out; a page ignores any other (it starts
    /// at the top), as a person may have edited the address.
    static func cursor(_ request: Request, isValid: (String) -> Bool) -> String? {
        guard let cursor = request.uri.queryParameters.get("cursor").map({ String($0) }), isValid(cursor) else { return nil }
        return cursor
    }

    static func fields(_ transaction: Transaction) -> [String: String] {
        let reference: String = transaction.betID ?? transaction.tradeID ?? transaction.paymentID ?? ""
        return [
            "createdAt": Timestamp.rfc3339(transaction.createdAt), "kind": transaction.kind.rawValue,
            "accountID": String(transaction.accountID), "amount": transaction.amount.description,
            "balance": transaction.balance.description, "reference": reference,
        ]
    }

    /// The player's first account's balance (the one bets come from when none is named).
    private func balance(_ identity: Identity) async throws -> String? {
        try await accounts.accounts(userID: identity.userID).first?.balance.description
    }

    static func fields(_ event: CatalogueEvent) -> [String: Any] {
        [
            "id": event.id, "title": event.title, "homeTeam": event.homeTeam, "awayTeam": event.awayTeam,
            "startsAt": Timestamp.rfc3339(event.startsAt), "odds": event.odds.description,
            // Bets are taken only while the catalogue says open and no result (or void) is in.
            "open": event.isOpen && event.result == nil, "unresulted": event.result == nil,
            "state": event.state.rawValue, "result": event.result?.rawValue ?? "", "traderID": event.traderID.map(String.init) ?? "",
        ]
    }

    // MARK: Rendering

    /// A page in the layout: the navigation the caller's role may use, the assets' versioned paths.
    /// `live` names the feed the page's script listens to.
    static func page(
        _ template: String, title: String, status: HTTPResponse.Status = .ok, identity: Identity?, _ values: [String: Any] = [:],
        live: String? = nil
    ) throws -> Response {
        var values = values
        values["title"] = title
        values["assets"] = ["js": WebUIAsset.script.versionedPath, "css": WebUIAsset.styleSheet.versionedPath]
        if let live { values["live"] = live }
        if let identity {
            values["user"] = ["login": identity.user.login, "role": identity.role.rawValue]
            values["nav"] = navigation(for: identity.role).map {
                ["href": $0.href, "label": $0.label, "current": $0.label == title] as [String: Any]
            }
        } else {
            values["nav"] = [["href": "/ui/login", "label": "Log in"], ["href": "/ui/register", "label": "Register"]]
        }
        guard let html = WebUITemplates.library.render(values, withTemplate: template) else {
            throw Problem.internal()
        }
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The links a role sees; the server checks the role on every page anyway.
    static func navigation(for role: Role) -> [(href: String, label: String)] {
        let player: [(href: String, label: String)] = [
            ("/ui/events", "Events"), ("/ui/bets", "My bets"), ("/ui/trades", "Trades"), ("/ui/wallet", "Wallet"),
        ]
        switch role {
        case .admin:
            return [
                ("/ui/operator/events", "Operator: events"), ("/ui/operator/users", "Operator: users"),
                ("/ui/operator/dead-letters", "Operator: dead letters"), ("/ui/operator/contacts", "Operator: contacts"),
            ] + player
        case .trader: return [("/ui/trader/events", "My events")] + player
        case .player: return player
        }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// `make bench`: the my-bets page of `bets` rendered as the route renders it, for `player`.
public enum WebUIBenchmark {
    public static func renderMyBets(_ bets: [Bet], player: User) throws -> Int {
        let values = WebUIRoutes.betsPage(bets, next: bets.last.map { "\($0.id)" }, status: nil, balance: "1000.00")
        let response = try WebUIRoutes.page("bets", title: "My bets", identity: Identity(user: player), values, live: "bets")
        return response.body.contentLength ?? 0
    }
}

/// On every `/ui` response: the security headers, and a refusal shown as a page rather than as
/// problem+json: no session (or a stale one) sends the browser to the login page, anything else
/// (a disabled account, an operator page for a player, an error) is a page that says why, with the
/// problem's status.
struct WebUIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// No inline script or style, nothing from another origin, no framing, forms only to here.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as Problem where problem.status == .unauthorized {
            response = WebUIRoutes.redirect("/ui/login")
        } catch let problem as Problem {
            response = try WebUIRoutes.page(
                "error", title: problem.title, status: problem.status, identity: context.identity,
                ["slug": problem.slug, "detail": problem.detail])
        }
        Self.secure(&response.headers, isAsset: request.uri.path.hasPrefix("/ui/assets/"))
        return response
    }

    static func secure(_ headers: inout HTTPFields, isAsset: Bool) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        // Pages show personal data: never stored by the browser or a proxy.
        if !isAsset { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
