import RedisClient

/// The trades in Redis: placing and reading them (the API), voiding one (an administrator). Closing
/// them is the worker's `TradeSettler`; prices are `PriceStore`'s.
public struct TradeStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let ids: IDGenerator
    public let idempotencyTTL: Duration
    public let prices: PriceStore

    public init(redis: RedisClient, keys: RedisKeys, ids: IDGenerator, idempotencyTTL: Duration = .seconds(24 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.ids = ids
        self.idempotencyTTL = idempotencyTTL
        self.prices = PriceStore(redis: redis, keys: keys)
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

    /// Places a trade, pending: refuses a stale quote, applies the client's price guard to the latest
    /// quote, and runs `place_trade`, which re-checks that the quote is still the latest (else this
    /// tries again with the new one, a few times). The worker opens the trade at the first tick after
    /// that quote (`TradeSettler`), so its start price is unknown when it is accepted.
    public func place(
        _ order: Order, userID: Int, maximumQuoteAge: Duration, toleranceBasisPoints: Int, idempotency: IdempotencyKey? = nil
    ) async throws -> PlaceOutcome {
        for _ in 0..<5 {
            guard let quote = try await prices.quote(order.symbol), quote.age(now: currentMilliseconds()) <= maximumQuoteAge.inMilliseconds
            else {
                // A replay is answered even when the feed is stale now.
                if let idempotency, let replayed = try await replay(idempotency) { return replayed }
                return .priceUnavailable(try await prices.quote(order.symbol))
            }
            if let expected = order.expectedPrice,
                !TradeMath.isWithin(basisPoints: toleranceBasisPoints, of: quote.tick.price, expected)
            {
                if let idempotency, let replayed = try await replay(idempotency) { return replayed }
                return .priceMoved(quote)
            }
            let tradeID = TradeID(symbol: order.symbol, serial: ids.next())
            let id = tradeID.description
            var scriptKeys = [
                keys.quote(order.symbol), keys.trade(tradeID), keys.pendingTrades(order.symbol), keys.user(userID), keys.accounts(userID),
                keys.ledger(userID), keys.userTrades(userID),
            ]
            var arguments = [
                id, quote.tick.id, String(order.stake.cents), String(userID), order.accountID.map { String($0) } ?? "", order.symbol,
                order.direction.rawValue, String(order.leverage), String(order.duration), String(maximumQuoteAge.inMilliseconds),
            ]
            if let idempotency {
                scriptKeys.append(keys.idempotency(sha256Hex(idempotency.key)))
                arguments += [idempotency.fingerprint, String(idempotencyTTL.inMilliseconds)]
            }
            let reply = try await redis.eval(Scripts.placeTrade, keys: scriptKeys, arguments: arguments).strings(for: "place_trade")
            switch reply.first {
            case "placed":
                guard reply.count == 3, let account = Int(reply[1]), let createdAt = Int64(reply[2]) else {
                    throw RedisError.unexpectedReply(command: "place_trade", reply: "\(reply)")
                }
                return .placed(
                    Trade(
                        id: id,
                        terms: Trade.Terms(
                            userID: userID, accountID: account, symbol: order.symbol, direction: order.direction, stake: order.stake,
                            leverage: order.leverage, duration: order.duration, start: nil, liquidationPrice: nil, createdAt: createdAt,
                            expiresAt: nil, acceptedAfter: quote.tick.id),
                        status: .pending))
            // A new tick came between reading the quote and the script: price again.
            case "quote_moved", "id_taken": continue
            case "stale": return .priceUnavailable(quote)
            case "replayed":
                guard reply.count == 2, let trade = try await trade(id: reply[1]) else {
                    throw RedisError.unexpectedReply(command: "place_trade", reply: "replayed trade without a hash: \(reply)")
                }
                return .replayed(trade.asPlaced)
            case "idempotency_mismatch": return .idempotencyKeyReused
            case "inactive_user": return .inactiveUser
            case "staff": return .staff(reply.count > 1 ? Role(rawValue: reply[1]) ?? .trader : .trader)
            case "no_account": return .noAccount
            case "insufficient_funds": return .insufficientFunds(balance: Money(cents: reply.count > 1 ? Int64(reply[1]) ?? 0 : 0))
            default: throw RedisError.unexpectedReply(command: "place_trade", reply: "\(reply)")
            }
        }
        throw RedisError.unexpectedReply(command: "place_trade", reply: "the quote moved five times while placing")
    }

    /// The earlier answer to a request with this Idempotency-Key, if there was one.
    private func replay(_ idempotency: IdempotencyKey) async throws -> PlaceOutcome? {
        let saved = try await redis.hmget(keys.idempotency(sha256Hex(idempotency.key)), ["fingerprint", "id"])
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
