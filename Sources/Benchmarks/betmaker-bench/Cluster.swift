import BetMaker
import BetMakerAPI
import Foundation
import RedisClient
import TestSupport

/// `make bench`, Redis Cluster (issue 30): the bet rows on one redis-server and on a cluster of three
/// masters, the same requests spread over the same 48 events, with Redis's CPU summed over the masters;
/// then the settlement of bets with money spread over the masters, winners paid. No replicas, as the
/// single node has none: the figures compare the scripts' work, not replication's.
func benchCluster(options: Options) async throws -> [String] {
    let shards = 12
    // `BENCH_REDIS_POOL_SIZE`: both APIs' connections per node, for the batching experiment in PERFORMANCE.md.
    let poolSetting = ProcessInfo.processInfo.environment["BENCH_REDIS_POOL_SIZE"].map { ["REDIS_POOL_SIZE": $0] } ?? [:]
    let single = try await withRedisServer { server in
        try await RedisClient(configuration: server.configuration).withRunning { (redis) async throws in
            let keys = RedisKeys(prefix: "bm:")
            _ = try await StorageSchema.check(redis: redis, keys: keys)
            let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: server, settings: poolSetting)
            let rows = try await betRows(
                baseURL: baseURL, redis: redis, keys: keys, cpu: try await CPUProbe.of(api.pid, redis: redis), options: options)
            await api.stop()
            return rows
        }
    }
    return try await withRedisCluster(masters: 3, replicasPerMaster: 0) { cluster in
        var configuration = cluster.configuration
        configuration.poolSize = 4
        return try await RedisClient(configuration: configuration).withRunning { (redis) async throws in
            let keys = RedisKeys(prefix: "bm:", shards: shards)
            _ = try await StorageSchema.check(redis: redis, keys: keys)
            let settings = ["REDIS_SHARDS": "\(shards)"].merging(poolSetting) { $1 }

            // 1. The API: anonymous bets and bets with money, each spread over 48 events (so over every
            // master, as production's many events are).
            let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: cluster, settings: settings)
            let (anonymousRow, walletRow) = try await betRows(
                baseURL: baseURL, redis: redis, keys: keys, cpu: try await CPUProbe.of(api.pid, cluster: cluster), options: options)
            await api.stop()
            let (anonymous, wallet) = (anonymousRow.result, walletRow.result)
            let accounts = AccountStore(redis: redis, keys: keys)
            let catalogue = CatalogueStore(redis: redis, keys: keys)

            // 2. Settling bets with money on 12 events spread over the masters, every bet won: the
            // worker flips the bets on each event's master and its relay pays each winner on the
            // winner's master, once.
            let store = BetStore(redis: redis, keys: keys, ids: IDGenerator(node: 3))
            let events = (0..<12).map { "cluster-settle-\($0)" }
            for event in events { _ = try await catalogue.create(openEvent(event)) }
            let deposit = Money(cents: 1_000_000_000)
            let payees = try await fundedUsers((0..<100).map { "cluster-payee-\($0)" }, amount: deposit, accounts: accounts)
            let count = max(1200, options.bets / 10)
            let owed = try await withThrowingTaskGroup(of: Int64.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        var net: Int64 = 0
                        for index in stride(from: task, to: count, by: 64) {
                            let payee = payees[index % payees.count]
                            let amount = Money(cents: Int64(100 + index % 10_000))
                            guard
                                case .placed(let bet) = try await store.place(
                                    eventID: events[index % events.count], amount: amount, userID: payee.userID,
                                    accountID: payee.accountID),
                                let payout = bet.wager?.payout
                            else { throw TestSupportError("a bet with money was refused") }
                            net += payout.cents - amount.cents
                        }
                        return net
                    }
                }
                return try await group.reduce(0, +)
            }
            let expected = deposit.cents * Int64(payees.count) + owed
            func paidOut() async throws -> Bool {
                var total: Int64 = 0
                for payee in payees { total += try await accounts.accounts(userID: payee.userID).reduce(0) { $0 + $1.balance.cents } }
                return total == expected
            }
            let worker = try await BetMakerProcesses.startWorker(redis: cluster, name: "cluster-bench", settings: settings)
            let started = ContinuousClock.now
            let (_, settleCPU) = try await CPUProbe.of(worker.pid, cluster: cluster).measure(per: { _ in count }) {
                for event in events { _ = try await store.report(eventID: event, result: .win) }
                guard await poll(timeout: .seconds(900), every: .milliseconds(100), { try await paidOut() }).held else {
                    throw TestSupportError("the bets on the cluster were not all settled and paid")
                }
            }
            let seconds = Double((ContinuousClock.now - started).inMilliseconds) / 1000
            await worker.stop()

            var lines = [
                "", "Redis Cluster, 3 masters (no replicas), \(shards) shards; Redis CPU summed over the masters:", "",
            ]
            lines += wrkHeader
            lines.append(row("POST /bets, 48 events, one node", single.anonymous.result))
            lines.append(row("POST /bets, 48 events, cluster", anonymous))
            lines.append(row("POST /bets with a wallet, 48 events, one node", single.wallet.result))
            lines.append(row("POST /bets with a wallet, 48 events, cluster", wallet))
            lines += ["", "| figure | value | target |", "|---|---|---|"]
            lines.append(
                String(
                    format: "| Redis µs CPU per anonymous bet, cluster / one node | %.1f / %.1f (%.2f×) | <= 1.2× |", anonymous.cpu.redis,
                    single.anonymous.result.cpu.redis, anonymous.cpu.redis / single.anonymous.result.cpu.redis))
            lines.append(
                String(
                    format: "| Redis µs CPU per bet with money, cluster / one node | %.1f / %.1f (%.2f×) | <= 2× |", wallet.cpu.redis,
                    single.wallet.result.cpu.redis, wallet.cpu.redis / single.wallet.result.cpu.redis))
            lines.append(
                String(
                    format:
                        "| Redis µs inside commands per anonymous bet / bet with money, cluster vs one node | %.1f vs %.1f / %.1f vs %.1f | - |",
                    anonymousRow.inCommands, single.anonymous.inCommands, walletRow.inCommands, single.wallet.inCommands))
            lines.append(
                String(
                    format:
                        "| settling %d bets with money on 12 events over 3 masters, every winner paid | %.0f bets/s (%.1f s) | measured |",
                    count, Double(count) / seconds, seconds))
            lines.append(settlementCPURow("settling and paying on the cluster", settleCPU))
            return lines
        }
    }
}

/// A wrk row and the microseconds Redis spent inside commands per request (`INFO commandstats`, summed
/// over the masters): the scripts' own work, without the event loop's and the sockets'.
struct BetRow {
    let result: WrkResult
    let inCommands: Double
}

/// `POST /bets` under wrk, anonymous and then with a funded user's token, each over 48 events.
private func betRows(
    baseURL: String, redis: RedisClient, keys: RedisKeys, cpu: CPUProbe, options: Options
) async throws -> (anonymous: BetRow, wallet: BetRow) {
    func measured(_ lua: String) async throws -> BetRow {
        let before = try await commandMicroseconds(redis)
        let result = try await wrk(baseURL + "/bets", lua: lua, seconds: options.duration, connections: options.connections, cpu: cpu)
        let spent = try await commandMicroseconds(redis) - before
        return BetRow(result: result, inCommands: Double(spent) / Double(max(1, result.requests)))
    }
    let anonymous = try await measured(rotatingBets(prefix: "wrk-", headers: [:]))
    let accounts = AccountStore(redis: redis, keys: keys)
    let user = try await fundedUsers(["wrk-bettor"], amount: Money(cents: 10_000_000_000), accounts: accounts)[0]
    let catalogue = CatalogueStore(redis: redis, keys: keys)
    for index in 0..<48 { _ = try await catalogue.create(openEvent("wrk-wallet-\(index)")) }
    let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(3600))
    let token = try await tokens.issue(userID: user.userID).token
    let wallet = try await measured(rotatingBets(prefix: "wrk-wallet-", headers: ["Authorization": "Bearer \(token)"]))
    return (anonymous, wallet)
}

/// Microseconds Redis spent inside commands so far (`INFO commandstats`), summed over the masters.
private func commandMicroseconds(_ redis: RedisClient) async throws -> Int {
    var total = 0
    for (_, reply) in try await redis.sendToEveryMaster(RedisCommand("INFO", "commandstats")) {
        for line in try reply.get().string(for: "INFO").split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            if let usec = line.split(separator: ",").first(where: { $0.hasPrefix("usec=") }) { total += Int(usec.dropFirst(5)) ?? 0 }
        }
    }
    return total
}

/// An open catalogue event far in the future at odds 1.85.
private func openEvent(_ id: String) -> CatalogueEvent {
    CatalogueEvent(
        id: id, title: "bench", homeTeam: "A", awayTeam: "B", startsAt: 4_000_000_000_000, odds: Odds(hundredths: 185), isOpen: true)
}

/// A wrk script that bets 12.50 on `<prefix>0` … `<prefix>47` in turn.
private func rotatingBets(prefix: String, headers: [String: String]) -> String {
    let extra = headers.map { "[\"\($0.key)\"] = \"\($0.value)\"" }.joined(separator: ", ")
    return """
        local counter = 0
        local headers = {["Content-Type"] = "application/json"\(extra.isEmpty ? "" : ", " + extra)}
        request = function()
          counter = counter + 1
          return wrk.format("POST", "/bets", headers, '{"event_id": "\(prefix)' .. (counter % 48) .. '", "amount": "12.50"}')
        end

        """
}
