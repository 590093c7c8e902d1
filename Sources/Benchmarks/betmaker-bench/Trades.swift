import BetMaker
import BetMakerAPI
import BetMakerRuntime
import Foundation
import RedisClient
import TestSupport

/// `make bench`, trades: placing over HTTP beside the no-op route (same run), settling due trades in
/// bulk, and one tick stopping out 10,000 trades; with the longest script call of each. Returns the
/// rows of its table.
func benchTrades(server: RedisServer, redis: RedisClient, keys: RedisKeys, options: Options) async throws -> [String] {
    let trades = TradeStore(redis: redis, keys: keys, ids: IDGenerator(node: 2))
    let accounts = AccountStore(redis: redis, keys: keys)
    let deposit = Money(cents: 100_000_000_000)
    let user = try await fundedUsers(["bench-trader"], amount: deposit, accounts: accounts)[0]
    let start = Price(units: 5_000_000_000_000)
    try await trades.prices.record(symbol: "BTC", price: start, source: "bench")
    try await trades.prices.record(symbol: "ETH", price: start, source: "bench")

    // 1. Placing over HTTP, beside the no-op route in the same run.
    let (api, baseURL) = try await BetMakerProcesses.startAPI(
        redis: server, settings: ["BENCH_NOOP_ENDPOINT": "true", "MAX_QUOTE_AGE_SECONDS": "86400", "TRADE_MAX_SECONDS": "86400"])
    let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(3600))
    let token = try await tokens.issue(userID: user.userID).token
    let body = #"{"symbol": "ETH", "direction": "up", "amount": "1.00", "leverage": 10, "duration": 86400}"#
    let cpu = try await CPUProbe.of(api.pid, redis: redis)
    let noop = try await wrk(baseURL + "/bench/noop", method: "POST", body: body, cpu: cpu, options: options)
    let place = try await wrk(
        baseURL + "/trades", method: "POST", body: body, headers: ["Authorization": "Bearer \(token)"], cpu: cpu, options: options)
    await api.stop()

    // 2. Settling: `count` trades due within the same second, closed by one tick after their expiry; by
    // one trader, then by 1,000 (the payouts go to the symbol's credits outbox either way; the credit
    // relay, not measured here, applies them per owner).
    let count = max(10_000, options.bets / 10)
    let batchSize = Settings().tradeBatchSize  // The worker's default batch.
    let settler = TradeSettler(redis: redis, keys: keys, batchSize: batchSize)
    let traders = try await fundedUsers((0..<1000).map { "bench-trader-\($0)" }, amount: deposit, accounts: accounts).map(\.userID)
    var price = start
    let oneTrader = try await settleDueTrades(
        count, owners: [user.userID], from: &price, trades: trades, settler: settler, redis: redis)
    let manyTraders = try await settleDueTrades(
        count, owners: traders, from: &price, trades: trades, settler: settler, redis: redis)

    // 3. One tick stopping out 10,000 open trades (leverage 10 up; the tick is 10 % down).
    let stopCount = 10_000
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<64 {
            group.addTask {
                for _ in stride(from: task, to: stopCount, by: 64) {
                    let order = TradeStore.Order(symbol: "BTC", direction: .up, stake: Money(cents: 100), leverage: 10, duration: 86_400)
                    guard
                        case .placed = try await trades.place(
                            order, userID: user.userID, maximumQuoteAge: .seconds(86_400), toleranceBasisPoints: 0)
                    else { throw TestSupportError("trade not placed") }
                }
            }
        }
        try await group.waitForAll()
    }
    // They open at the next tick, and the one after stops them out.
    try await trades.prices.record(symbol: "BTC", price: start, source: "bench")
    _ = try await settler.process(symbol: "BTC")
    try await trades.prices.record(symbol: "BTC", price: Price(units: start.units * 9 / 10), source: "bench")
    _ = try await redis.send(RedisCommand("SLOWLOG", "RESET"))
    let stopStart = ContinuousClock.now
    let stopped = try await settler.process(symbol: "BTC")
    let stopMilliseconds = (ContinuousClock.now - stopStart).inMilliseconds
    let stopLongest = try await longestScriptCall(redis)
    let report = try await InvariantChecker(redis: redis, keys: keys).check()

    return [
        row("POST /bench/noop (baseline)", noop),
        row("POST /trades (bearer token)", place, baseline: noop),
        "",
        "| trades figure | value | target |",
        "|---|---|---|",
    ] + oneTrader.rows(batchSize: batchSize, owners: "one trader") + manyTraders.rows(batchSize: batchSize, owners: "1,000 traders") + [
        "| one tick stopping out \(stopped.stoppedOut) trades | \(stopMilliseconds) ms in \(stopped.batches) calls | |",
        String(
            format: "| longest script call of that tick | %.2f ms (%@) | <= 10 ms |", Double(stopLongest.microseconds) / 1000,
            stopLongest.name),
        "| invariant violations after the trades | \(report.violationCount) | 0 |",
    ]
}

/// One settling measurement of `betmaker-bench`'s trades section: opening the trades, then closing them.
struct SettlingRun {
    let opening: TradeSettler.Report
    let openingSeconds: Double
    let openingCPU: CPUPerUnit
    let report: TradeSettler.Report
    let seconds: Double
    let cpu: CPUPerUnit
    let longest: (microseconds: Int, name: String, overTenMilliseconds: Int)

    func rows(batchSize: Int, owners: String) -> [String] {
        [
            String(
                format: "| opening %d pending trades of %@ at one tick | %.0f trades/s | |", opening.opened, owners,
                Double(opening.opened) / openingSeconds),
            String(
                format: "| CPU per opened trade: worker (the bench process) / Redis | %.1f µs / %.1f µs | |", openingCPU.process,
                openingCPU.redis),
            String(
                format: "| settling %d due trades of %@ (one tick, batches of %d) | %.0f trades/s (%d batches) | >= 50,000/s |",
                report.settled, owners, batchSize, Double(report.settled) / seconds, report.batches),
            String(
                format: "| CPU per settled trade: worker (the bench process) / Redis | %.1f µs / %.1f µs | |", cpu.process, cpu.redis),
            String(
                format: "| longest script call while settling | %.2f ms (%@); %d of %d calls over 10 ms | <= 10 ms |",
                Double(longest.microseconds) / 1000, longest.name, longest.overTenMilliseconds, report.batches),
        ]
    }
}

/// Places `count` one-second trades through `TradeStore.place`, round-robin over `owners`, records the
/// tick they open at and opens them, waits for their expiry, records a tick 0.5 % above `price` (a move
/// no trade is stopped out by: leverage 50 needs 2 %, so every one settles at expiry) and settles them,
/// both with the worker's code in this process, so the worker's column is this process's CPU. `price`
/// becomes that tick's.
func settleDueTrades(
    _ count: Int, owners: [Int], from price: inout Price, trades: TradeStore, settler: TradeSettler, redis: RedisClient
) async throws -> SettlingRun {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<64 {
            group.addTask {
                for index in stride(from: task, to: count, by: 64) {
                    let order = TradeStore.Order(
                        symbol: "BTC", direction: index % 2 == 0 ? .up : .down, stake: Money(cents: 100 + Int64(index % 1000)),
                        leverage: 1 + index % 50, duration: 1)
                    guard
                        case .placed = try await trades.place(
                            order, userID: owners[index % owners.count], maximumQuoteAge: .seconds(86_400), toleranceBasisPoints: 0)
                    else { throw TestSupportError("trade not placed") }
                }
            }
        }
        try await group.waitForAll()
    }
    let openingTick = try await trades.prices.record(symbol: "BTC", price: price, source: "bench")
    let openingStarted = ContinuousClock.now
    let (opening, openingCPU) = try await CPUProbe.of(getpid(), redis: redis).measure(per: \.opened) {
        try await settler.process(symbol: "BTC")
    }
    let openingSeconds = max(0.001, Double((ContinuousClock.now - openingStarted).inMilliseconds) / 1000)
    let lastExpiry = openingTick.time + 1000
    _ = await poll(timeout: .seconds(10), every: .milliseconds(10)) { currentMilliseconds() > lastExpiry }
    price = Price(units: price.units + price.units / 200)
    try await trades.prices.record(symbol: "BTC", price: price, source: "bench")
    _ = try await redis.send(RedisCommand("SLOWLOG", "RESET"))
    let started = ContinuousClock.now
    let (report, cpu) = try await CPUProbe.of(getpid(), redis: redis).measure(per: \.settled) {
        try await settler.process(symbol: "BTC")
    }
    let seconds = max(0.001, Double((ContinuousClock.now - started).inMilliseconds) / 1000)
    return SettlingRun(
        opening: opening, openingSeconds: openingSeconds, openingCPU: openingCPU, report: report, seconds: seconds, cpu: cpu,
        longest: try await longestScriptCall(redis))
}
