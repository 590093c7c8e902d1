// `make bench`: the API and the worker under load, with their figures beside a baseline.
//
// Starts its own redis-server, stores a million bets on one event, then measures with wrk (release
// builds of betmaker-api and betmaker-worker, next to this executable):
//   - POST /bets and GET /bets?limit=100 beside POST /bench/noop, a JSON endpoint of the same server
//     that only parses the body; POST /plays for a known address (which must not call the ESP) and
//     for new ones (one lookup each at the fake ESP, a local HTTP server);
//   - the settlement rate of the million-bet event, of an event with money, and the refund rate of a
//     100,000-bet void (every bet with money);
//   - the longest single script call (SLOWLOG), and Redis memory per bet.
//   - the web UI: the render time of a page of 50 bets, and memory per idle live-update stream
//     (1,000 held open by one API process);
//   - Redis Cluster: the bet rows on three masters, Redis CPU summed over them beside one node's, and
//     settling bets with money over the masters (Cluster.swift);
//   - a soak: mixed load on the API and the worker together (80% POST /bets, 15% GET /bets, 5% PUT
//     /events/...), then settlement lag and the invariant checker.
// Usage: betmaker-bench [--bets N] [--duration SECONDS] [--connections C] [--soak SECONDS] [--only trades|cluster]
import BetMaker
import BetMakerAPI
import Foundation
import RedisClient
import TestSupport

struct Options {
    var bets = 1_000_000
    var duration = 10
    var connections = 64
    var soak = 60
    /// One section alone: `trades` (after the bets are stored), `cluster` (without the single node's rows).
    var only: String?

    static let usage =
        "Usage: betmaker-bench [--bets N] [--duration SECONDS] [--connections C] [--soak SECONDS] [--only trades|cluster]"

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--help" || flag == "-h" {
                print(Self.usage)
                exit(0)
            }
            if flag == "--only" {
                guard let section = iterator.next(), ["trades", "cluster"].contains(section) else {
                    Self.refuse("--only takes: trades, cluster")
                }
                only = section
                continue
            }
            guard let value = iterator.next().flatMap(Int.init), value > 0 else { Self.refuse("\(flag) needs a positive number") }
            switch flag {
            case "--bets": bets = value
            case "--duration": duration = value
            case "--connections": connections = value
            case "--soak": soak = value
            default: Self.refuse("unknown option \(flag)")
            }
        }
    }

    private static func refuse(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("betmaker-bench: \(reason)\n\(usage)\n".utf8))
        exit(2)
    }
}

/// Registers an active user for each login and deposits `amount` into the user's account.
func fundedUsers(_ logins: [String], amount: Money, accounts: AccountStore) async throws -> [(userID: Int, accountID: Int)] {
    var users: [(userID: Int, accountID: Int)] = []
    for login in logins {
        guard case .created(let user, let account, _) = try await accounts.register(login: login, passwordHash: "x", active: true),
            case .credited = try await accounts.deposit(transactionID: login, userID: user.id, accountID: account.id, amount: amount)
        else { throw TestSupportError("no funded user \(login)") }
        users.append((user.id, account.id))
    }
    return users
}

/// A figure row: the worker's and Redis's CPU per settled bet.
func settlementCPURow(_ what: String, _ cpu: CPUPerUnit) -> String {
    String(format: "| worker / Redis µs CPU per bet, %@ | %.2f / %.2f | - |", what, cpu.process, cpu.redis)
}

/// The longest script call in Redis's slow log (which keeps every call over 1 ms here), its name, and
/// how many script calls took over 10 ms.
func longestScriptCall(_ redis: RedisClient) async throws -> (microseconds: Int, name: String, overTenMilliseconds: Int) {
    let names = Dictionary(uniqueKeysWithValues: Scripts.all.map { ($0.sha1, $0.name) })
    var longest = (microseconds: 0, name: "none over 1 ms", overTenMilliseconds: 0)
    for entry in try await redis.send(RedisCommand("SLOWLOG", "GET", "-1")).array(for: "SLOWLOG") {
        let fields = try entry.array(for: "SLOWLOG")
        guard fields.count > 3, case .integer(let microseconds) = fields[2] else { continue }
        let arguments = try fields[3].array(for: "SLOWLOG").compactMap(\.string)
        guard arguments.first?.uppercased().hasPrefix("EVAL") == true else { continue }
        if microseconds > 10_000 { longest.overTenMilliseconds += 1 }
        if Int(microseconds) > longest.microseconds {
            (longest.microseconds, longest.name) = (
                Int(microseconds), arguments.count > 1 ? names[arguments[1]] ?? arguments[0] : arguments[0]
            )
        }
    }
    return longest
}

let options = Options(CommandLine.arguments)
let keys = RedisKeys(prefix: "bm:", shards: BetMakerProcesses.testShards)
if options.only == "cluster" {
    for line in try await benchCluster(options: options) { print(line) }
    exit(0)
}
try await withRedisServer(extraArguments: ["--slowlog-log-slower-than", "1000", "--slowlog-max-len", "100000"]) { server in
    try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
        func printTrades() async throws {
            print("")
            print(
                "Trades, wrk -t2 -c\(options.connections) -d\(options.duration)s for placing; settling in-process with the worker's code:")
            print("")
            for line in wrkHeader { print(line) }
            for line in try await benchTrades(server: server, redis: redis, keys: keys, options: options) { print(line) }
        }

        // 1. A million bets on one event, through the store (the API's own code path), in a store
        // versioned as the processes would version it.
        _ = try await StorageSchema.check(redis: redis, keys: keys)
        let memoryBefore = Int(try await redis.infoFields("memory")["used_memory"] ?? "0") ?? 0
        let store = BetStore(redis: redis, keys: keys, ids: IDGenerator(node: 1))
        let seedStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for index in stride(from: task, to: options.bets, by: 64) {
                        _ = try await store.place(eventID: "bench-1m", amount: Money(cents: Int64(100 + index % 10_000)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let seedSeconds = Double((ContinuousClock.now - seedStart).components.seconds)
        let memoryAfter = Int(try await redis.infoFields("memory")["used_memory"] ?? "0") ?? 0
        let bytesPerBet = Double(memoryAfter - memoryBefore) / Double(options.bets)
        print("Stored \(options.bets) bets in about \(Int(seedSeconds)) s through BetStore.place (64 callers).")
        if options.only == "trades" {
            try await printTrades()
            return
        }

        // 2. The API under wrk.
        let esp = try await FakeESPServer.start()
        let (api, baseURL) = try await BetMakerProcesses.startAPI(
            redis: server,
            settings: esp.settings.merging([
                "BENCH_NOOP_ENDPOINT": "true",
                // One wrk client is one address: buckets too large to empty, so the rows measure plays, not 429s.
                "PLAYS_RATE_PER_MINUTE": "100000000", "PLAYS_RATE_BURST": "100000000",
            ]) { $1 })
        let apiCPU = try await CPUProbe.of(api.pid, redis: redis)
        let betBody = #"{"event_id": "wrk", "amount": "12.50"}"#
        let noop = try await wrk(baseURL + "/bench/noop", method: "POST", body: betBody, cpu: apiCPU, options: options)
        let post = try await wrk(baseURL + "/bets", method: "POST", body: betBody, cpu: apiCPU, options: options)
        let list = try await wrk(baseURL + "/bets?limit=100", cpu: apiCPU, options: options)
        // Bets with money: a funded user, an open catalogue event, a bearer token checked per request.
        let accounts = AccountStore(redis: redis, keys: keys)
        let user = try await fundedUsers(["bench"], amount: Money(cents: 10_000_000_000), accounts: accounts)[0]
        let wrkEvent = CatalogueEvent(
            id: "wrk-wallet", title: "wrk", homeTeam: "A", awayTeam: "B", startsAt: 4_000_000_000_000, odds: Odds(hundredths: 185),
            isOpen: true)
        _ = try await CatalogueStore(redis: redis, keys: keys).create(wrkEvent)
        let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(3600))
        let token = try await tokens.issue(userID: user.userID).token
        let walletPost = try await wrk(
            baseURL + "/bets", method: "POST", body: #"{"event_id": "wrk-wallet", "amount": "12.50"}"#,
            headers: ["Authorization": "Bearer \(token)"], cpu: apiCPU, options: options)
        // Email plays: one address played over and over (known after the first play), then a new
        // address every request.
        let known = #"{"email": "known.player@bench.example"}"#
        _ = try await wrk(baseURL + "/plays", method: "POST", body: known, cpu: apiCPU, options: Options(["", "--duration", "1"]))
        let lookupsBefore = esp.calls("GET")
        let knownPlays = try await wrk(baseURL + "/plays", method: "POST", body: known, cpu: apiCPU, options: options)
        let lookupsDuringKnown = esp.calls("GET") - lookupsBefore
        let newPlays = try await wrk(
            baseURL + "/plays",
            lua: """
                local counter = 0
                local salt = tostring(math.random(1, 1000000000))
                request = function()
                  counter = counter + 1
                  return wrk.format("POST", "/plays", {["Content-Type"] = "application/json"},
                    '{"email": "p' .. counter .. '.' .. salt .. '@bench.example"}')
                end

                """, seconds: options.duration, connections: options.connections, cpu: apiCPU)
        // After the API stopped: requests still in flight when wrk ended have landed by then.
        await api.stop()
        await esp.stop()
        let placedWithMoney = try await redis.llen(keys.userBets(user.userID))
        let balanceAfter = try await accounts.accounts(userID: user.userID).first?.balance.cents ?? -1

        // 3. Settling the million-bet event.
        _ = try await redis.send(RedisCommand("SLOWLOG", "RESET"))
        _ = try await redis.send(RedisCommand("CONFIG", "RESETSTAT"))
        let worker = try await BetMakerProcesses.startWorker(redis: server, name: "bench")
        let event = keys.event("bench-1m")
        let (_, settleCPU) = try await CPUProbe.of(worker.pid, redis: redis).measure(per: { _ in options.bets }) {
            _ = try await store.report(eventID: "bench-1m", result: .win)
            guard await poll(timeout: .seconds(600), every: .milliseconds(50), { try await redis.hget(event, "settled_at") != nil }).held
            else { throw TestSupportError("the event was not settled") }
        }
        let times = try await redis.hmget(event, ["reported_at", "settled_at", "won"])
        let settleMilliseconds = max(1, (Int(times[1] ?? "0") ?? 0) - (Int(times[0] ?? "0") ?? 0))
        let settleRate = Double(Int(times[2] ?? "0") ?? 0) / (Double(settleMilliseconds) / 1000)
        await worker.stop()
        // How much of the settlement's wall time Redis spent in the worker's calls (scripts and the id
        // reads; commands inside scripts count toward their script): the rest is idle Redis.
        var redisMicroseconds = 0
        for (name, value) in try await redis.infoFields("commandstats")
        where name.hasPrefix("cmdstat_evalsha") || name == "cmdstat_lrange" {
            if let usec = value.split(separator: ",").first(where: { $0.hasPrefix("usec=") }) {
                redisMicroseconds += Int(usec.dropFirst(5)) ?? 0
            }
        }
        let redisBusy = Double(redisMicroseconds) / 10 / Double(settleMilliseconds)

        // 4. The longest script call, from Redis's own slow log (everything over 1 ms is kept).
        let longest = try await longestScriptCall(redis)

        // 5. An event whose bets all carry money, a tenth the size: each winner's payout is owed to the
        // credits outbox in the call that settles its bet, and applied by the worker's relay.
        let walletBets = max(1000, options.bets / 10)
        let payees = try await fundedUsers(
            (0..<100).map { "payee-\($0)" }, amount: Money(cents: 1_000_000_000), accounts: accounts)
        _ = try await CatalogueStore(redis: redis, keys: keys).create(
            CatalogueEvent(
                id: "bench-wallet", title: "bench", homeTeam: "A", awayTeam: "B", startsAt: 4_000_000_000_000, odds: Odds(hundredths: 185),
                isOpen: true))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for index in stride(from: task, to: walletBets, by: 64) {
                        let payee = payees[index % payees.count]
                        _ = try await store.place(
                            eventID: "bench-wallet", amount: Money(cents: Int64(100 + index % 10_000)), userID: payee.userID,
                            accountID: payee.accountID)
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await redis.send(RedisCommand("SLOWLOG", "RESET"))
        let walletWorker = try await BetMakerProcesses.startWorker(redis: server, name: "bench-wallet")
        let walletEvent = keys.event("bench-wallet")
        let (_, walletCPU) = try await CPUProbe.of(walletWorker.pid, redis: redis).measure(per: { _ in walletBets }) {
            _ = try await store.report(eventID: "bench-wallet", result: .win)
            guard
                await poll(timeout: .seconds(600), every: .milliseconds(50), { try await redis.hget(walletEvent, "settled_at") != nil })
                    .held
            else { throw TestSupportError("the event with money was not settled") }
        }
        let walletTimes = try await redis.hmget(walletEvent, ["reported_at", "settled_at", "won", "paid"])
        let walletMilliseconds = max(1, (Int(walletTimes[1] ?? "0") ?? 0) - (Int(walletTimes[0] ?? "0") ?? 0))
        let walletRate = Double(Int(walletTimes[2] ?? "0") ?? 0) / (Double(walletMilliseconds) / 1000)
        let walletLongest = try await longestScriptCall(redis)
        _ = await poll(timeout: .seconds(600), every: .milliseconds(50)) { try await CreditOutbox(redis: redis, keys: keys).isCaughtUp() }
        await walletWorker.stop()

        // 6. A void of a 100,000-bet event, every bet with money: each bet becomes void and its stake is
        // owed back to the credits outbox in the call that voids it, then applied by the relay.
        let voidBets = 100_000
        _ = try await CatalogueStore(redis: redis, keys: keys).create(
            CatalogueEvent(
                id: "bench-void", title: "bench", homeTeam: "A", awayTeam: "B", startsAt: 4_000_000_000_000, odds: Odds(hundredths: 185),
                isOpen: true))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for index in stride(from: task, to: voidBets, by: 64) {
                        let payee = payees[index % payees.count]
                        _ = try await store.place(
                            eventID: "bench-void", amount: Money(cents: Int64(100 + index % 10_000)), userID: payee.userID,
                            accountID: payee.accountID)
                    }
                }
            }
            try await group.waitForAll()
        }
        _ = try await redis.send(RedisCommand("SLOWLOG", "RESET"))
        let voidWorker = try await BetMakerProcesses.startWorker(redis: server, name: "bench-void")
        let voidEvent = keys.event("bench-void")
        let (_, voidCPU) = try await CPUProbe.of(voidWorker.pid, redis: redis).measure(per: { _ in voidBets }) {
            _ = try await EventWorkflowStore(redis: redis, keys: keys).void(eventID: "bench-void", reason: "bench")
            guard
                await poll(timeout: .seconds(600), every: .milliseconds(50), { try await redis.hget(voidEvent, "settled_at") != nil }).held
            else { throw TestSupportError("the void event was not refunded") }
        }
        let voidTimes = try await redis.hmget(voidEvent, ["reported_at", "settled_at", "void", "refunded"])
        let voidMilliseconds = max(1, (Int(voidTimes[1] ?? "0") ?? 0) - (Int(voidTimes[0] ?? "0") ?? 0))
        let refundRate = Double(Int(voidTimes[2] ?? "0") ?? 0) / (Double(voidMilliseconds) / 1000)
        let voidLongest = try await longestScriptCall(redis)
        _ = await poll(timeout: .seconds(600), every: .milliseconds(50)) { try await CreditOutbox(redis: redis, keys: keys).isCaughtUp() }
        await voidWorker.stop()

        print("")
        print("HTTP, wrk -t2 -c\(options.connections) -d\(options.duration)s, \(options.bets) bets stored:")
        print("")
        for line in wrkHeader { print(line) }
        print(row("POST /bench/noop (baseline)", noop))
        print(row("POST /bets", post, baseline: noop))
        print(row("GET /bets?limit=100", list, baseline: noop))
        print(row("POST /bets with a wallet (bearer token)", walletPost, baseline: noop))
        print(row("POST /plays, a known address", knownPlays, baseline: noop))
        print(row("POST /plays, a new address each time (lookup at the fake ESP)", newPlays, baseline: noop))
        print("")
        print("ESP lookups while a known address was played: \(lookupsDuringKnown) (must be 0)")
        print("")
        print(
            "\(placedWithMoney) bets with money placed; the balance is the deposit less exactly their stakes: "
                + "\(balanceAfter == 10_000_000_000 - Int64(placedWithMoney) * 1250 ? "yes" : "NO")")
        print("")
        print("| figure | value | target |")
        print("|---|---|---|")
        print(
            String(
                format: "| settlement of a %d-bet event | %.0f bets/s (%d ms, Redis busy %.0f%%) | >= 250,000 bets/s |", options.bets,
                settleRate, settleMilliseconds, redisBusy))
        print(settlementCPURow("settling that event", settleCPU))
        print(String(format: "| longest script call | %.2f ms (%@) | <= 10 ms |", Double(longest.microseconds) / 1000, longest.name))
        print(
            String(
                format:
                    "| settlement of a %d-bet event, every bet with money and won | %.0f bets/s (%d ms), %@ paid out | >= 60,000 bets/s |",
                walletBets,
                walletRate, walletMilliseconds, Money(cents: Int64(walletTimes[3] ?? "0") ?? 0).description))
        print(settlementCPURow("settling bets with money that win", walletCPU))
        print(
            String(
                format: "| longest script call settling bets with money | %.2f ms (%@) | <= 10 ms |",
                Double(walletLongest.microseconds) / 1000,
                walletLongest.name))
        print(
            String(
                format: "| void of a %d-bet event, every bet with money: refunds | %.0f refunds/s (%d ms), %@ refunded | - |", voidBets,
                refundRate, voidMilliseconds, Money(cents: Int64(voidTimes[3] ?? "0") ?? 0).description))
        print(settlementCPURow("refunding the void event", voidCPU))
        print(
            String(
                format: "| longest script call refunding a void event | %.2f ms (%@) | <= 10 ms |", Double(voidLongest.microseconds) / 1000,
                voidLongest.name))
        print(String(format: "| Redis memory per bet | %.0f bytes | measured, no target |", bytesPerBet))

        // 7. Crypto-price trades (Trades.swift).
        try await printTrades()

        // 8. Redis Cluster: the bet rows and settlement on three masters (Cluster.swift).
        for line in try await benchCluster(options: options) { print(line) }

        // 9. The web UI: rendering a page of 50 bets, and idle live-update streams (WebUI.swift).
        print("")
        print("| web UI | value | target |")
        print("|---|---|---|")
        for line in try await benchWebUI(server: server, redis: redis, keys: keys) { print(line) }

        // 10. The soak, on an empty Redis: API and worker together under mixed load (Soak.swift).
        guard options.soak > 0 else { return }
        for line in try await benchSoak(server: server, redis: redis, store: store, keys: keys, options: options) { print(line) }
    }
}
