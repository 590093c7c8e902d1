import Adapters
import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// The one reader of the price feed, and the closer of trades: every `refresh` it reads the feed and
/// records a tick per symbol in Redis (`TradeStore.record`, the path tests use too); every
/// `pollInterval` it processes each symbol's new ticks (`TradeSettler`: stop-outs, then expiries, then
/// the cursor). A failing feed (401, 429, 5xx, a timeout) is retried with backoff and records no tick,
/// so due trades wait for a fresh price instead of settling at a stale one. Several workers may run:
/// processing is harmless to repeat (see `TradeSettler`), and each records ticks of its own reads.
public final class PriceWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var symbols: [String]
        public var refresh: Duration
        public var pollInterval: Duration
        public var batchSize: Int
        public var retryBackoff = Backoff.Policy(initial: .seconds(1), maximum: .seconds(300))

        public init(symbols: [String], refresh: Duration, pollInterval: Duration, batchSize: Int) {
            self.symbols = symbols
            self.refresh = refresh
            self.pollInterval = pollInterval
            self.batchSize = batchSize
        }
    }

    private let feed: (any PriceFeed)?
    private let prices: PriceStore
    private let settler: TradeSettler
    private let configuration: Configuration
    private let logger: Logger
    private let feedCalls: [String: Counter]
    private let feedLatency = Timer(label: "price_feed_call_seconds")
    private let opened = Counter(label: "trades_opened_total")
    private let stoppedOut = Counter(label: "trades_closed_total", dimensions: [("close", "stop_out")])
    private let settled = Counter(label: "trades_closed_total", dimensions: [("close", "expiry")])
    /// Trades `close_trades` refused, parked with a dead letter for an administrator (`TradeSettler`).
    private let parked: [TradeClose: Counter] = Dictionary(
        uniqueKeysWithValues: [TradeClose.expiry, .stopOut].map {
            ($0, Counter(label: "trades_parked_total", dimensions: [("step", $0.rawValue)]))
        })

    public init(feed: (any PriceFeed)?, redis: RedisClient, keys: RedisKeys, configuration: Configuration, logger: Logger) {
        self.feed = feed
        self.prices = PriceStore(redis: redis, keys: keys)
        self.settler = TradeSettler(redis: redis, keys: keys, batchSize: configuration.batchSize)
        self.configuration = configuration
        self.logger = logger
        let outcomes = ["ok", "unauthorized", "rate_limited", "unavailable", "error"]
        self.feedCalls = Dictionary(
            uniqueKeysWithValues: outcomes.map { ($0, Counter(label: "price_feed_calls_total", dimensions: [("outcome", $0)])) })
    }

    public func run() async throws {
        logger.info(
            "Price worker starting",
            metadata: ["feed": "\(feed?.name ?? "none")", "symbols": "\(configuration.symbols.joined(separator: ","))"])
        var feedBackoff = Backoff(configuration.retryBackoff)
        var processBackoff = Backoff(.init(initial: .milliseconds(100), maximum: .seconds(5)))
        var nextRead = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let feed, ContinuousClock.now >= nextRead {
                if await read(feed) {
                    feedBackoff.reset()
                    nextRead = .now + configuration.refresh
                } else {
                    nextRead = .now + max(configuration.refresh, feedBackoff.next())
                }
            }
            var pause = configuration.pollInterval
            do {
                for symbol in configuration.symbols { try await process(symbol) }
                processBackoff.reset()
            } catch {
                pause = processBackoff.next()
                logger.warning(
                    "Processing ticks failed, retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(pause.inMilliseconds)"])
            }
            do {
                try await cancelWhenGracefulShutdown { [pause] in try await Task.sleep(for: pause) }
            } catch {
                break
            }
        }
        logger.info("Price worker stopped")
    }

    /// One read of the feed and a tick per symbol it answered for; false when the read failed.
    private func read(_ feed: any PriceFeed) async -> Bool {
        let started = ContinuousClock.now
        do {
            let latest = try await feed.prices(for: configuration.symbols)
            feedLatency.recordNanoseconds(Int64((ContinuousClock.now - started).inMilliseconds) * 1_000_000)
            feedCalls["ok"]?.increment()
            for symbol in configuration.symbols {
                guard let price = latest[symbol] else { continue }
                try await prices.record(symbol: symbol, price: price, source: feed.name)
            }
            return true
        } catch {
            let outcome: String
            switch error as? CoinMarketCapFeed.Failure {
            case .unauthorized?: outcome = "unauthorized"
            case .rateLimited?: outcome = "rate_limited"
            case .unavailable?: outcome = "unavailable"
            default: outcome = "error"
            }
            feedCalls[outcome]?.increment()
            logger.warning("Price feed read failed", metadata: ["feed": "\(feed.name)", "error": "\(error)", "outcome": "\(outcome)"])
            return false
        }
    }

    private func process(_ symbol: String) async throws {
        while !Task.isShuttingDownGracefully {
            let report = try await settler.process(symbol: symbol)
            for letter in report.parked {
                parked[letter.step]?.increment()
                logger.error(
                    "Trade parked: close_trades refused it; repair the cause, then POST /admin/trade-dead-letters/\(letter.tradeID)/retry",
                    metadata: [
                        "trade_id": "\(letter.tradeID)", "symbol": "\(symbol)", "step": "\(letter.step.rawValue)",
                        "tick": "\(letter.tick.id)",
                        "reason": "\(letter.reason)",
                    ])
            }
            if report.opened > 0 {
                opened.increment(by: report.opened)
                logger.info(
                    "Trades opened",
                    metadata: ["symbol": "\(symbol)", "opened": "\(report.opened)", "cursor": "\(report.cursor ?? "")"])
            }
            if report.stoppedOut + report.settled > 0 {
                stoppedOut.increment(by: report.stoppedOut)
                settled.increment(by: report.settled)
                logger.info(
                    "Trades closed",
                    metadata: [
                        "symbol": "\(symbol)", "ticks": "\(report.ticks)", "stopped_out": "\(report.stoppedOut)",
                        "settled": "\(report.settled)",
                        "won": "\(report.won)", "lost": "\(report.lost)", "even": "\(report.even)", "paid_out": "\(report.paidOut)",
                        "batches": "\(report.batches)", "cursor": "\(report.cursor ?? "")",
                    ])
            }
            if report.ticks < 1000 { return }
        }
    }
}
