import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import RedisClient

/// `/trades`, `/crypto/quotes` and the original service's `/api/v1/trade_it/` and
/// `/api/v1/trade_status/{id}`, which are aliases on the same code.
struct TradeRoutes {
    let store: TradeStore
    let symbols: [String]
    let maximumLeverage: Int
    let durations: ClosedRange<Int>
    let maximumStake: Money
    let maximumQuoteAge: Duration
    let toleranceBasisPoints: Int
    let maximumBodyBytes: Int
    let tradesPlaced = Counter(label: "trades_placed_total")

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(
        authenticated trades: some RouterMethods<APIRequestContext>, quotes: some RouterMethods<APIRequestContext>,
        legacy: some RouterMethods<APIRequestContext>
    ) {
        trades.post(use: placeTrade)
        trades.get(use: listTrades)
        trades.get("{id}", use: getTrade)
        trades.post("{id}/void", use: voidTrade)
        quotes.get("quotes", use: listQuotes)
        legacy.post("trade_it", use: tradeIt)
        legacy.get("trade_status/{id}", use: tradeStatus)
    }

    // MARK: Placing

    /// `{symbol, direction, amount, leverage, duration, account_id?, start_price?}`.
    @Sendable func placeTrade(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let body = try await Input.json(request, limit: maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(
            body, allowed: ["symbol", "direction", "amount", "leverage", "duration", "account_id", "start_price"], errors: &errors)
        let order = order(
            fields, names: .init(symbol: "symbol", amount: "amount", duration: "duration", accountID: "account_id"), errors: &errors)
        guard let order, errors.isEmpty else { throw Problem.validation(errors) }
        return try await place(order, request: request, identity: identity, context: context)
    }

    /// The original service's call: `{exchange, bet_amount, leverage, direction, time, start_price}`,
    /// `exchange` a symbol and `time` the duration in MINUTES: the original documents `"time": 5` and
    /// prices from CoinMarketCap, which updates about once a minute, so 5 seconds would not see a
    /// second price (decision 0292).
    @Sendable func tradeIt(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let body = try await Input.json(request, limit: maximumBodyBytes)
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(
            body, allowed: ["exchange", "bet_amount", "leverage", "direction", "time", "start_price"], errors: &errors)
        let order = order(
            fields, names: .init(symbol: "exchange", amount: "bet_amount", duration: "time", durationUnit: .minutes, accountID: nil),
            errors: &errors)
        guard let order, errors.isEmpty else { throw Problem.validation(errors) }
        return try await place(order, request: request, identity: identity, context: context)
    }

    /// What the two placing calls name their fields.
    struct FieldNames {
        let symbol: String
        let amount: String
        let duration: String
        var durationUnit = DurationUnit.seconds
        let accountID: String?
    }

    /// What a call's duration counts: the native call's seconds, the original service's minutes.
    enum DurationUnit: Int {
        case seconds = 1
        case minutes = 60

        /// The whole numbers of this unit within `range` (seconds).
        func span(_ range: ClosedRange<Int>) -> ClosedRange<Int>? {
            let lowest = (range.lowerBound + rawValue - 1) / rawValue
            let highest = range.upperBound / rawValue
            return lowest <= highest ? lowest...highest : nil
        }
    }

    /// The order a body asks for; every field's problem goes to `errors`.
    func order(_ fields: [String: JSONValue], names: FieldNames, errors: inout [Problem.FieldError]) -> TradeStore.Order? {
        var symbol: String?
        switch fields[names.symbol] {
        case .string(let text)? where symbols.contains(text): symbol = text
        case nil: errors.append(.init(names.symbol, "is required"))
        default: errors.append(.init(names.symbol, "must be one of \(symbols.joined(separator: ", "))"))
        }
        var direction: TradeDirection?
        switch fields["direction"] {
        case .string(let text)?: direction = TradeDirection(rawValue: text)
        default: break
        }
        if direction == nil { errors.append(.init("direction", fields["direction"] == nil ? "is required" : "must be up or down")) }
        let stake = Input.stake(fields[names.amount], maximum: maximumStake, field: names.amount).collect(into: &errors)
        let leverage = Self.whole(fields["leverage"], field: "leverage", in: 1...maximumLeverage).collect(into: &errors)
        let unit = names.durationUnit
        var duration: Int?
        if let span = unit.span(durations) {
            duration = Self.whole(fields[names.duration], field: names.duration, in: span, unit: unit == .minutes ? "minutes" : nil)
                .collect(into: &errors).map { $0 * unit.rawValue }
        } else {
            errors.append(
                .init(
                    names.duration,
                    "counts minutes, and trades here last \(durations.lowerBound) to \(durations.upperBound) s: use POST /trades"))
        }
        var accountID: Int?
        if let name = names.accountID, fields[name] != nil {
            accountID = Input.identifier(fields[name], field: name).collect(into: &errors)?.value
        }
        var expected: Price?
        if fields["start_price"] != nil {
            expected = Input.numberText(fields["start_price"], field: "start_price", expected: "a number or a decimal string")
                .flatMap { text in
                    do throws(Price.ParseError) {
                        return .success(try Price(parsing: text))
                    } catch {
                        return .failure(.init("start_price", error.description))
                    }
                }
                .collect(into: &errors)
        }
        guard let symbol, let direction, let stake, let leverage, let duration else { return nil }
        return TradeStore.Order(
            symbol: symbol, direction: direction, stake: stake, leverage: leverage, duration: duration, accountID: accountID,
            expectedPrice: expected)
    }

    /// A whole number in `range`, as a JSON number (`5` or `5.0`); `unit` names what it counts in the reason.
    static func whole(
        _ value: JSONValue?, field: String, in range: ClosedRange<Int>, unit: String? = nil
    ) -> Result<Int, Problem.FieldError> {
        let reason = "must be a whole number \(unit.map { "of \($0) " } ?? "")from \(range.lowerBound) to \(range.upperBound)"
        guard let value else { return .failure(.init(field, "is required")) }
        guard case .number(let text) = value, let digits = Input.wholeNumber(text), let number = Int(decimalDigits: digits),
            range.contains(number)
        else { return .failure(.init(field, reason)) }
        return .success(number)
    }

    func place(_ order: TradeStore.Order, request: Request, identity: Identity, context: APIRequestContext) async throws -> Response {
        let idempotency = try Input.idempotencyKey(request).map {
            IdempotencyKey(key: "trade:user:\(identity.userID):" + $0, fingerprint: order.fingerprint)
        }
        let outcome = try await store.place(
            order, userID: identity.userID, maximumQuoteAge: maximumQuoteAge, toleranceBasisPoints: toleranceBasisPoints,
            idempotency: idempotency)
        switch outcome {
        case .placed(let trade):
            tradesPlaced.increment()
            context.logger.debug("Trade placed", metadata: ["trade_id": "\(trade.id)", "symbol": "\(trade.symbol)"])
            return .json(.created, trade.json, headers: [.location: "/trades/" + trade.id])
        case .replayed(let trade):
            return .json(.created, trade.json, headers: [.location: "/trades/" + trade.id, .idempotentReplayed: "true"])
        case .idempotencyKeyReused:
            throw Problem.idempotencyKeyReused("trade")
        case .staff(let role):
            throw Problem.staffMayNotBet(role, "trades")
        case .priceUnavailable(let quote):
            var problem = Problem(
                .serviceUnavailable, "price-unavailable", title: "No current price",
                detail: quote.map {
                    "The latest \(order.symbol) price is \($0.age(now: currentMilliseconds()) / 1000) s old, more than the "
                        + "\(maximumQuoteAge.inMilliseconds / 1000) s allowed; nothing was debited. Retry when the feed is back."
                } ?? "There is no \(order.symbol) price yet; nothing was debited. Retry shortly.")
            problem.headers[.retryAfter] = "5"
            throw problem
        case .priceMoved(let quote):
            var problem = Problem.conflict(
                "price-moved", title: "The price moved",
                detail: "The \(order.symbol) price is \(quote.tick.price), more than \(toleranceBasisPoints) basis points from your "
                    + "start_price \(order.expectedPrice.map { "\($0)" } ?? ""); nothing was debited. Send the current price as "
                    + "start_price, or leave start_price out to trade at the market.")
            problem.extensions = [("price", quote.tick.price.description), ("tick", quote.tick.id)]
            throw problem
        case .inactiveUser:
            throw Problem.accountDisabled()
        case .noAccount:
            throw Problem.conflict(
                "no-such-account", title: "No such account",
                detail: order.accountID.map { "Account \($0) is not one of your accounts." } ?? "You have no account to trade from.")
        case .insufficientFunds(let balance):
            var problem = Problem.conflict(
                "insufficient-funds", title: "Insufficient funds",
                detail: "The stake \(order.stake) is more than the account's balance \(balance); nothing was debited.")
            problem.extensions = [("balance", balance.description), ("stake", order.stake.description)]
            throw problem
        }
    }

    // MARK: Reading

    @Sendable func listTrades(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        var errors: [Problem.FieldError] = []
        var status: TradeStatus?
        if let text = request.uri.queryParameters.get("status") {
            status = TradeStatus(rawValue: text)
            if status == nil { errors.append(.init("status", "must be pending, open, won, lost, even or void")) }
        }
        let page = Input.page(
            request, defaultLimit: Self.defaultLimit, maximum: Self.maximumLimit, isValidCursor: NewestFirstPages.isValidCursor,
            errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let found = try await store.list(userID: identity.userID, status: status, limit: page.limit, cursor: page.cursor)
        var headers: HTTPFields = [:]
        if let next = found.nextCursor {
            headers[.link] = Input.nextLink("/trades", limit: page.limit, cursor: next, status.map { [("status", $0.rawValue)] } ?? [])
        }
        return .json(headers: headers, capacity: 64 + found.trades.count * 600) { json in
            json.beginArray()
            for trade in found.trades { trade.write(to: &json) }
            json.endArray()
        }
    }

    /// The owner's or an administrator's; anyone else is told it does not exist.
    func readableTrade(_ context: APIRequestContext) async throws -> Trade {
        let identity = try context.requireUser()
        let id = try context.parameter("id")
        guard TradeID(id) != nil, let trade = try await store.trade(id: id),
            identity.role == .admin || identity.userID == trade.userID
        else {
            throw Problem.notFound("There is no trade \(id).")
        }
        return trade
    }

    @Sendable func getTrade(_ request: Request, context: APIRequestContext) async throws -> Response {
        .json(.ok, try await readableTrade(context).json)
    }

    // MARK: Voiding

    /// An administrator voids an open trade that cannot be priced (the feed died for good, the symbol
    /// was delisted): `{"reason"}`; the stake goes back at once as a refund. Voiding a void trade again
    /// changes nothing; a trade a tick already closed is 409 `trade-not-open`.
    @Sendable func voidTrade(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let id = try context.parameter("id")
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(try await Input.json(request, limit: maximumBodyBytes), allowed: ["reason"], errors: &errors)
        let reason = Input.text(fields["reason"], field: "reason", maximumLength: 500).collect(into: &errors)
        guard let reason, errors.isEmpty else { throw Problem.validation(errors) }
        guard TradeID(id) != nil else { throw Problem.notFound("There is no trade \(id).") }
        switch try await store.void(id: id, reason: reason) {
        case .voided(let trade):
            context.logger.notice("Trade voided", metadata: ["trade_id": "\(id)", "reason": "\(reason)"])
            return .json(.ok, trade.json)
        case .notOpen(let trade) where trade.status == .void:
            return .json(.ok, trade.json)
        case .notOpen(let trade):
            var problem = Problem.conflict(
                "trade-not-open", title: "The trade is closed",
                detail: "Trade \(id) is \(trade.status.rawValue): a tick closed it already, so it cannot be voided. Nothing was changed.")
            problem.extensions = [("current_status", trade.status.rawValue)]
            throw problem
        case .notFound:
            throw Problem.notFound("There is no trade \(id).")
        }
    }

    /// `{status: "completed"|"pending", result: "W"|"L", profit}` as the original service answers;
    /// `result` and `profit` only once completed. An even or a void trade (stake back) is `W` with
    /// profit 0.00: nothing was lost.
    @Sendable func tradeStatus(_ request: Request, context: APIRequestContext) async throws -> Response {
        let trade = try await readableTrade(context)
        return .json { json in
            json.beginObject()
            let isRunning = trade.status == .pending || trade.status == .open
            json.field("status", isRunning ? "pending" : "completed")
            if !isRunning {
                json.field("result", trade.status == .lost ? "L" : "W")
                json.field("profit", trade.profit?.description)
            }
            json.endObject()
        }
    }

    /// Public: each configured symbol's latest price, its tick, time, source and age.
    @Sendable func listQuotes(_ request: Request, context: APIRequestContext) async throws -> Response {
        let quotes = try await store.prices.quotes(symbols)
        let now = currentMilliseconds()
        return .json { json in
            json.beginArray()
            for quote in quotes { quote.write(to: &json, now: now, maximumAge: maximumQuoteAge) }
            json.endArray()
        }
    }
}
