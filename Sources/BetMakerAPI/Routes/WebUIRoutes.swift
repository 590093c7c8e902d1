import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import RedisClient
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
        var values: [String: Any] = ["events": events.map { Self.fields($0) }]
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
        // Events by title: one read per distinct event of the page (a page has 50 bets at most).
        var titles: [String: String] = [:]
        for eventID in Set(page.bets.map(\.eventID)) { titles[eventID] = try await catalogue.event(id: eventID)?.title }
        return try Self.page(
            "bets", title: "My bets", identity: context.identity,
            Self.betsPage(page.bets, next: page.nextCursor, status: status, balance: try await balance(identity), titles: titles),
            live: "bets")
    }

    /// The my-bets page's values; separate so that `make bench` can time a render of 50 bets. An event
    /// without a title (gone from the catalogue, or an anonymous bet's) is shown by its id.
    static func betsPage(
        _ bets: [Bet], next: String?, status: BetStatus?, balance: String?, titles: [String: String] = [:]
    ) -> [String: Any] {
        var values: [String: Any] = [
            "bets": bets.map { bet -> [String: Any] in
                [
                    "id": bet.id.description, "eventID": bet.eventID, "eventTitle": titles[bet.eventID] ?? bet.eventID,
                    "amount": bet.amount.description,
                    "status": bet.status.rawValue, "odds": bet.wager?.odds.description ?? "", "payout": bet.wager?.payout.description ?? "",
                    "createdAt": time(bet.createdAt, .relative),
                ]
            },
            "hasBets": !bets.isEmpty, "filtered": status.map { $0.rawValue as Any } ?? false,
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
            "transactions": ledger.transactions.map(Self.fields), "hasTransactions": !ledger.transactions.isEmpty,
        ]
        if let next = ledger.nextCursor { values["next"] = "/ui/wallet?cursor=\(next)" }
        return try Self.page("wallet", title: "Wallet", identity: context.identity, values)
    }

    /// `GET /ui/stream`: the caller's live updates as Server-Sent Events. The browser is subscribed
    /// before it is caught up, so nothing falls between the two; what both hold is sent once (ids
    /// only go up). With a `Last-Event-ID` the stream no longer reaches back to, it gets `reset`.
    ///
    /// The subscription lives inside the response body and ends on every way out of it (caught up or
    /// not, written or not); a user who holds `LIVE_STREAMS_PER_USER` streams already gets 429.
    @Sendable func liveUpdates(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let isOperator = identity.role == .admin
        // Checked again, atomically, when the body subscribes: this one only lets the refusal be a 429.
        guard feed.streams(of: identity.userID) < feed.streamsPerUser else { throw Problem.tooManyLiveStreams(limit: feed.streamsPerUser) }
        let lastEventID = request.headers[.lastEventID]
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
        WebUIMiddleware.secure(&headers, isAsset: true)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [feed] writer in
                try await writer.write(ServerSentEvents.retry)
                guard let subscription = feed.subscribe(userID: identity.userID, isOperator: isOperator) else {
                    // Another stream of the user's came in between: this one ends, and the browser retries.
                    try await writer.finish(nil)
                    return
                }
                defer { feed.end(subscription.id) }
                // The id of the last entry the browser has, or nil to send whatever comes.
                var sent: String? = nil
                if let lastEventID {
                    let caughtUp = try await feed.catchUp(after: lastEventID) { entries in
                        for entry in entries {
                            guard let message = LiveFeed.message(for: entry, userID: identity.userID, isOperator: isOperator) else {
                                continue
                            }
                            try await writer.write(ServerSentEvents.frame(message))
                        }
                        sent = entries.last?.id
                    }
                    if caughtUp {
                        sent = sent ?? lastEventID
                    } else {
                        try await writer.write(ServerSentEvents.reset)
                    }
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
                } onGracefulShutdown: {
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

    static func fields(_ transaction: Transaction) -> [String: Any] {
        let reference: String = transaction.betID ?? transaction.tradeID ?? transaction.paymentID ?? ""
        return [
            "createdAt": time(transaction.createdAt, .absolute), "kind": transaction.kind.rawValue,
            "accountID": String(transaction.accountID), "amount": transaction.amount.description,
            "balance": transaction.balance.description, "reference": reference,
        ]
    }

    /// Why an event takes no bets, for a player's card.
    static func closedNote(_ reason: CatalogueEvent.ClosedReason) -> String {
        switch reason {
        case .started: "Closed for bets: it has started (betting closes at kick-off)."
        case .taken: "Closed for bets: a trader is resulting it."
        case .closedByOperator: "Closed for bets by the operator."
        case .resulted, .void: "Closed for bets: it has its result."
        }
    }

    /// The same beside the operators' state, for the reasons it does not show: a result or a void shows
    /// as the state, the operator's own switch as the missing "taking bets" and the Manage dialog's button.
    static func closedShort(_ reason: CatalogueEvent.ClosedReason) -> String? {
        switch reason {
        case .started: "closed for bets: started"
        case .taken: "closed for bets: taken"
        case .closedByOperator, .resulted, .void: nil
        }
    }

    /// The player's first account's balance (the one bets come from when none is named).
    func balance(_ identity: Identity) async throws -> String? {
        try await accounts.accounts(userID: identity.userID).first?.balance.description
    }

    /// An event's values; `logins` names its trader (the id shows when the login is not known).
    static func fields(_ event: CatalogueEvent, logins: [Int: String] = [:], now: Int64 = currentMilliseconds()) -> [String: Any] {
        let closed = event.closedReason(at: now)
        var fields: [String: Any] = [
            "id": event.id, "title": event.title, "homeTeam": event.homeTeam, "awayTeam": event.awayTeam,
            "startsAt": time(event.startsAt, .relative), "odds": event.odds.description,
            // The operator's switch (the Manage dialog's open or close), and whether bets are taken now:
            // besides the switch, no result, no trader took it, not started.
            "open": event.isOpen && event.result == nil, "unresulted": event.result == nil, "takesBets": closed == nil,
            "closedNote": closed.map(closedNote) ?? "",
            "state": event.state.rawValue, "result": event.result?.rawValue ?? "",
            "traderLogin": event.traderID.map { logins[$0] ?? "user \($0)" } ?? "",
        ]
        // Absent rather than empty: a section renders for any string, the empty one included.
        if let short = closed.flatMap(closedShort) { fields["closedShort"] = short }
        return fields
    }
}
