import RedisClient

/// The trades in Redis: placing and reading them (the API), voiding one (an administrator). Closing
/// them is the worker's `TradeSettler`; prices are `PriceStore`'s.
public struct TradeStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let ids: IDGenerator
    public let idempotencyTTL: Duration
    public let prices: PriceStore
    /// The user-slot steps of placing (hold, post or void).
    public let wallet: Wallet

    public init(redis: RedisClient, keys: RedisKeys, ids: IDGenerator, idempotencyTTL: Duration = .seconds(24 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.ids = ids
        self.idempotencyTTL = idempotencyTTL
        self.prices = PriceStore(redis: redis, keys: keys)
        self.wallet = Wallet(redis: redis, keys: keys, idempotencyTTL: idempotencyTTL)
    }

    // MARK: Placing

    public struct Order: Sendable, Equatable {
        public var symbol: String
        public var direction: TradeDirection
        public var stake: Money
        public var leverage: Int
        /// Seconds.
        public var duration: Int
        public var accountID: Int?
        /// The client's idea of the start price: a guard, never the price used.
        public var expectedPrice: Price?

        public init(
            symbol: String, direction: TradeDirection, stake: Money, leverage: Int, duration: Int, accountID: Int? = nil,
            expectedPrice: Price? = nil
        ) {
            self.symbol = symbol
            self.direction = direction
            self.stake = stake
            self.leverage = leverage
            self.duration = duration
            self.accountID = accountID
            self.expectedPrice = expectedPrice
        }

        /// What a retry with the same Idempotency-Key must ask for again.
        public var fingerprint: String {
            "\(symbol)\n\(direction.rawValue)\n\(stake.cents)\n\(leverage)\n\(duration)\n\(accountID ?? 0)\n\(expectedPrice?.units ?? 0)"
        }
    }

    public enum PlaceOutcome: Sendable, Equatable {
        case placed(Trade)
        case replayed(Trade)
        case idempotencyKeyReused
        /// No quote, or the latest is older than the maximum age.
        case priceUnavailable(Quote?)
        /// The client's `start_price` is further from the server's than the tolerance.
        case priceMoved(Quote)
        case inactiveUser
        /// The user is staff (a trader or an administrator): staff do not trade with money.
        case staff(Role)
        case noAccount
        case insufficientFunds(balance: Money)
    }

    /// Places a trade, pending, as a two-phase transfer between the user's slot and the symbol's: refuses
    /// a stale quote and applies the client's price guard to the latest quote; then
    ///
    /// 1. holds the stake on the user's slot (`Wallet.hold`, the trade id as the reference, with the
    ///    Idempotency-Key), which checks the user and the balance;
    /// 2. writes the trade on the symbol's slot (`place_trade`, idempotent by the trade id), which re-checks
    ///    that the quote is still the latest (else this prices again with the new one, a few times) and
    ///    fresh;
    /// 3. posts the hold, or voids it (the stake back) when the trade was refused.
    ///
    /// A crash between the steps leaves a pending hold that the worker's reconciler finishes
    /// (`HoldReconciler`, `TradeHoldOwner`). The worker opens the trade at the first tick after that quote (`TradeSettler`), so
    /// its start price is unknown when it is accepted.
    public func place(
        _ order: Order, userID: Int, maximumQuoteAge: Duration, toleranceBasisPoints: Int, idempotency: IdempotencyKey? = nil
    ) async throws -> PlaceOutcome {
        // A replay is answered whatever the feed says now.
        if let idempotency, let replayed = try await replay(idempotency, userID: userID) { return replayed }
        var quote: Quote
        switch try await priced(order, maximumQuoteAge: maximumQuoteAge, toleranceBasisPoints: toleranceBasisPoints) {
        case .success(let current): quote = current
        case .failure(let refusal): return refusal.outcome
        }
        var id = TradeID(symbol: order.symbol, serial: ids.next())
        let hold: Hold
        var isReplay = false
        switch try await wallet.hold(
            .trade(id.description), userID: userID, amount: order.stake, accountID: order.accountID, idempotency: idempotency)
        {
        case .held(let held): hold = held
        case .replayed(let reference, let pending):
            // The same request again: answered by its trade; one still held is placed now as it would have been.
            guard let pending, let earlier = TradeID(reference.id), earlier.symbol == order.symbol else {
                return try await trade(id: reference.id).map { .replayed($0.asPlaced) } ?? .idempotencyKeyReused
            }
            (id, hold, isReplay) = (earlier, pending, true)
        case .released:
            throw RedisError.unexpectedReply(command: "hold_stake", reply: "a new trade id \(id) was released before")
        case .idempotencyKeyReused: return .idempotencyKeyReused
        case .inactiveUser: return .inactiveUser
        case .staff(let role): return .staff(role)
        case .noAccount: return .noAccount
        case .insufficientFunds(let balance): return .insufficientFunds(balance: balance)
        }
        for _ in 0..<5 {
            let reply = try await redis.eval(
                Scripts.placeTrade,
                keys: [keys.quote(order.symbol), keys.trade(id), keys.pendingTrades(order.symbol), keys.abandonedTrades(order.symbol)],
                arguments: [
                    id.description, quote.tick.id, String(order.stake.cents), String(userID), String(hold.accountID), order.symbol,
                    order.direction.rawValue, String(order.leverage), String(order.duration), String(maximumQuoteAge.inMilliseconds),
                    keys.prefix,
                ]
            ).strings(for: "place_trade")
            switch reply.first {
            case "placed":
                guard reply.count == 2, let createdAt = Int64(reply[1]) else {
                    throw RedisError.unexpectedReply(command: "place_trade", reply: "\(reply)")
                }
                _ = try await wallet.release(.trade(id.description), userID: userID, .post)
                let trade = Trade(
                    id: id.description,
                    terms: Trade.Terms(
                        userID: userID, accountID: hold.accountID, symbol: order.symbol, direction: order.direction, stake: order.stake,
                        leverage: order.leverage, duration: order.duration, start: nil, liquidationPrice: nil, createdAt: createdAt,
                        expiresAt: nil, acceptedAfter: quote.tick.id),
                    status: .pending)
                return isReplay ? .replayed(trade) : .placed(trade)
            case "exists":
                // Placed by an earlier attempt of this request (its reply was lost).
                _ = try await wallet.release(.trade(id.description), userID: userID, .post)
                guard let trade = try await trade(id: id.description) else {
                    throw RedisError.unexpectedReply(command: "place_trade", reply: "trade \(id) exists but does not read: \(reply)")
                }
                return isReplay ? .replayed(trade.asPlaced) : .placed(trade.asPlaced)
            case "abandoned":
                // The reconciler gave up on it (and voids or voided the hold): nothing was placed.
                _ = try await wallet.release(.trade(id.description), userID: userID, .void)
                return .priceUnavailable(quote)
            case "quote_moved", "stale":
                // A new tick came between reading the quote and the script, or the feed went stale: price again.
                switch try await priced(order, maximumQuoteAge: maximumQuoteAge, toleranceBasisPoints: toleranceBasisPoints) {
                case .success(let current): quote = current
                case .failure(let refusal):
                    _ = try await wallet.release(.trade(id.description), userID: userID, .void)
                    return refusal.outcome
                }
            default: throw RedisError.unexpectedReply(command: "place_trade", reply: "\(reply)")
            }
        }
        _ = try await wallet.release(.trade(id.description), userID: userID, .void)
        throw RedisError.unexpectedReply(command: "place_trade", reply: "the quote moved five times while placing")
    }

    /// Why a quote cannot price an order.
    private struct Refusal: Error {
        let outcome: PlaceOutcome
    }

    /// The latest quote of the order's symbol if it is fresh and within the client's price guard.
    private func priced(_ order: Order, maximumQuoteAge: Duration, toleranceBasisPoints: Int) async throws -> Result<Quote, Refusal> {
        guard let quote = try await prices.quote(order.symbol), quote.age(now: currentMilliseconds()) <= maximumQuoteAge.inMilliseconds
        else { return .failure(Refusal(outcome: .priceUnavailable(try await prices.quote(order.symbol)))) }
        if let expected = order.expectedPrice, !TradeMath.isWithin(basisPoints: toleranceBasisPoints, of: quote.tick.price, expected) {
            return .failure(Refusal(outcome: .priceMoved(quote)))
        }
        return .success(quote)
    }

    /// The earlier answer to a request with this Idempotency-Key, if its trade was placed; a request
    /// whose hold is still pending goes on (`Wallet.hold` answers it with that hold).
    private func replay(_ idempotency: IdempotencyKey, userID: Int) async throws -> PlaceOutcome? {
        let saved = try await redis.hmget(keys.userIdempotency(userID, sha256Hex(idempotency.key)), ["fingerprint", "id"])
        guard let fingerprint = saved[0], let id = saved[1] else { return nil }
        guard fingerprint == idempotency.fingerprint else { return .idempotencyKeyReused }
        return try await trade(id: id).map { .replayed($0.asPlaced) }
    }

    // MARK: Voiding

    public enum VoidOutcome: Sendable, Equatable {
        /// Voided now: the stake is back on its account.
        case voided(Trade)
        case notFound
        /// Closed by a tick, or voided, before this call.
        case notOpen(Trade)
    }

    /// Voids a pending or open trade (an administrator's call): the stake owed back as a refund in the
    /// symbol's credits outbox, the trade out of the worker's sets, in one script on the symbol's slot
    /// that an opening or a close racing it cannot interleave with; then the live feed's entry.
    public func void(id: String, reason: String) async throws -> VoidOutcome {
        guard let tradeID = TradeID(id) else { return .notFound }
        let symbol = tradeID.symbol
        let reply = try await redis.eval(
            Scripts.voidTrade,
            keys: [
                keys.trade(tradeID), keys.dueTrades(symbol), keys.openTrades(symbol, .up), keys.openTrades(symbol, .down),
                keys.openTradeTerms(symbol), keys.pendingTrades(symbol), keys.tradeCredits(symbol),
            ],
            arguments: [id, reason, keys.prefix]
        ).strings(for: "void_trade")
        if reply.first == "voided", reply.count == 3 {
            try await TradeFeed.append(redis: redis, keys: keys, symbol: symbol, users: reply[2])
        }
        guard let current = try await self.trade(id: id) else { return .notFound }
        switch reply.first {
        case "voided": return .voided(current)
        case "missing": return .notFound
        case "not_open": return .notOpen(current)
        default: throw RedisError.unexpectedReply(command: "void_trade", reply: "\(reply)")
        }
    }

    // MARK: Reading

    public func trade(id: String) async throws -> Trade? {
        try await trades(ids: [id]).first
    }

    /// The trades with these ids, in the same order; ids without a trade (or that are no trade id) are
    /// left out.
    public func trades(ids: [String]) async throws -> [Trade] {
        let ids = ids.compactMap { id in TradeID(id).map { (id, $0) } }
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HMGET", arguments: [keys.trade($0.1)] + Trade.storedFields) })
        var trades: [Trade] = []
        for ((id, _), reply) in zip(ids, replies) {
            if let trade = try Trade(id: id, stored: try reply.get()) { trades.append(trade) }
        }
        return trades
    }

    public struct Page: Sendable, Equatable {
        public let trades: [Trade]
        public let nextCursor: String?
    }

    /// The user's trades newest first, read backwards from their append-only list; the cursor is a
    /// position in it, as for bets. A status filter applies to the trades read (at most
    /// `NewestFirstPages.maximumWindows` windows a page).
    public func list(userID: Int, status: TradeStatus?, limit: Int, cursor: String?) async throws -> Page {
        let page = try await NewestFirstPages(redis: redis, list: keys.userTrades(userID)).page(limit: limit, cursor: cursor) {
            let trades = try await trades(ids: $0)
            return status.map { wanted in trades.filter { $0.status == wanted } } ?? trades
        }
        return Page(trades: page.items, nextCursor: page.nextCursor)
    }
}
