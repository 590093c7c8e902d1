import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import Synchronization
import TestSupport
import Testing

/// Faults on a Redis Cluster of three masters with a replica each (node timeout 2 s), under the real
/// API and worker: a master killed (`kill -9`) while bets with money are placed, a bet answered 201
/// whose user's master dies right after, and the repairs of what a failover may lose
/// (docs/decisions/0314). Each ends with `betmaker-worker check` clean across the shards.
@Suite(.serialized) struct ClusterFaultTests {
    static let keys = BetMakerSystem.keys
    /// Every write a client is answered for is on a replica first, unless the wait timed out.
    static let waitForAReplica = ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "500"]
    static let quickReconciler = ["HOLD_MAX_AGE_MS": "1000", "HOLD_RECONCILE_INTERVAL_MS": "200"]

    /// The seeded player (1000.00), logged in: token, user id, account id.
    static func demoPlayer(_ system: BetMakerSystem) async throws -> (token: String, userID: Int, accountID: Int) {
        let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
        guard seeded.status == 0 else { throw TestSupportError("seed failed: \(seeded.output)") }
        let login = try await system.request(.POST, "/auth", json: #"{"login": "demo", "password": "demo-password"}"#)
        guard let token = login.string["access_token"] else { throw TestSupportError("demo cannot log in: \(login.body)") }
        let me = try await system.request(.GET, "/users/me", token: token)
        guard case .object(let user)? = me["user"], case .number(let id)? = user.first(where: { $0.key == "id" })?.value,
            case .array(let accounts)? = me["accounts"], case .object(let account)? = accounts.first,
            case .number(let accountID)? = account.first(where: { $0.key == "id" })?.value, let userID = Int(id),
            let accountIDValue = Int(accountID)
        else { throw TestSupportError("no user or account: \(me.body)") }
        return (token, userID, accountIDValue)
    }

    static func balance(_ system: BetMakerSystem, _ userID: Int, _ accountID: Int) async throws -> String? {
        try await system.redis.hget(keys.accounts(userID), String(accountID))
    }

    /// Whether the worker finished every two-phase step: no pending hold, no unconfirmed stake.
    static func reconciled(_ system: BetMakerSystem, userID: Int) async throws -> Bool {
        for shard in keys.allShards {
            if try await system.redis.zcard(keys.unconfirmedStakes(shard: shard)) > 0 { return false }
        }
        return try await system.redis.send(RedisCommand("HLEN", keys.holds(userID))).int(for: "HLEN") == 0
    }

    /// `betmaker-worker check` across the shards finds nothing (and `bets` bets, when given).
    static func expectCheckClean(_ cluster: RedisCluster, bets: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let check = try await BetMakerProcesses.runCheck(redis: cluster)
        let summary = check.output.split(whereSeparator: \.isNewline).first { $0.contains(" violation(s); ") }
        let expected = "0 violation(s); " + (bets.map { "\($0) bets" } ?? "")
        #expect(check.status == 0 && summary?.hasPrefix(expected) == true, "\(check.output)", sourceLocation: sourceLocation)
    }

    /// Places a bet with its Idempotency-Key, retried with the same key on a 5xx or a lost answer until
    /// one is final: the status and the bet's id when placed.
    static func place(_ system: BetMakerSystem, token: String, cents: Int64, key: String) async throws -> (status: Int, id: String?) {
        let body = #"{"event_id": "demo-derby", "amount": "\#(Money(cents: cents))"}"#
        for _ in 0..<200 {
            let reply = try? await system.request(
                .POST, "/bets", json: body, headers: [("Authorization", "Bearer \(token)"), ("Idempotency-Key", key)])
            if let reply, reply.status < 500 { return (reply.status, reply.string["id"]) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("bet \(key) had no final answer")
    }

    /// A bet whose stake a failover of the user's master lost, and a bet a failover of the event's master
    /// lost while its hold was pending (both made by hand, `LostWrites`): the worker takes the first
    /// stake again and voids the second hold, and the checker is clean.
    @Test func theWorkerRepairsABetWhoseHoldVanishedAndAHoldWhoseBetVanished() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 1) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: Self.waitForAReplica) { system in
                let player = try await Self.demoPlayer(system)
                let placed = try await Self.place(system, token: player.token, cents: 1_000, key: "kept")
                #expect(placed.status == 201)
                let keptID = try #require(placed.id.flatMap { BetID($0) })
                try await LostWrites.loseStake(
                    redis: system.redis, keys: Self.keys, bet: keptID, userID: player.userID, accountID: player.accountID,
                    amount: Money(cents: 1_000))
                // The reverse: the hold is pending, the bet was written and is gone.
                let store = BetStore(redis: system.redis, keys: Self.keys, ids: IDGenerator(node: 71))
                let lostID = BetID(eventID: "demo-derby", serial: store.ids.next())
                guard
                    case .held(let hold) = try await store.wallet.hold(
                        .bet(lostID), userID: player.userID, amount: Money(cents: 3_000), accountID: nil)
                else { throw TestSupportError("not held") }
                let reply = try await system.redis.eval(
                    Scripts.placeWalletBet,
                    keys: [
                        Self.keys.event("demo-derby"), Self.keys.eventBets("demo-derby"), Self.keys.bet(lostID),
                        Self.keys.eventBettors("demo-derby"), Self.keys.abandonedBets("demo-derby"),
                        Self.keys.unconfirmedStakes(of: "demo-derby"),
                    ],
                    arguments: [lostID.description, lostID.serial, "demo-derby", "3000", String(player.userID), String(hold.accountID)]
                ).strings(for: "place_wallet_bet")
                #expect(reply.first == "placed")
                try await LostWrites.loseBet(
                    redis: system.redis, keys: Self.keys, bet: lostID, userID: player.userID, accountID: player.accountID,
                    amount: Money(cents: 3_000))
                #expect(try await Self.balance(system, player.userID, player.accountID) == "97000")
                let broken = try await BetMakerProcesses.runCheck(redis: cluster)
                #expect(broken.status != 0, "\(broken.output)")

                let worker = try await BetMakerProcesses.startWorker(redis: cluster, settings: Self.quickReconciler)
                #expect(await eventually { try await Self.reconciled(system, userID: player.userID) })
                #expect(await worker.waitForOutput(containing: "Stake of a bet whose hold vanished taken again"))
                // 1000.00 less the kept bet's 10.00, taken again; the lost bet's 30.00 back.
                #expect(try await Self.balance(system, player.userID, player.accountID) == "99000")
                #expect(try await system.request(.GET, "/bets/\(keptID)", token: player.token).status == 200)
                #expect(try await system.redis.sismember(Self.keys.abandonedBets("demo-derby"), lostID.serial))
                #expect(await worker.stop() == 0)
                try await Self.expectCheckClean(cluster)
            }
        }
    }

    /// With REDIS_WAIT_REPLICAS=1 a bet answered 201 is on the user's replica too: its master killed
    /// right after the answer, the promoted replica has the stake (and the event's the bet). Three
    /// rounds, the killed node back as a replica between them.
    @Test func withWaitABetAnsweredSurvivesAKillOfItsUsersMaster() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 1) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: Self.waitForAReplica) { system in
                let player = try await Self.demoPlayer(system)
                var staked: Int64 = 0
                for round in 0..<3 {
                    let cents = Int64(100 * (round + 1))
                    let placed = try await Self.place(system, token: player.token, cents: cents, key: "round-\(round)")
                    #expect(placed.status == 201)
                    staked += cents
                    let master = try await cluster.owner(ofSlot: HashSlot.of(Self.keys.user(player.userID)))
                    await cluster.crash(master)
                    try await cluster.waitUntilHealthy(timeout: .seconds(30))
                    // The test's own client finds the promoted node; a stake lost would never show.
                    let expected = String(100_000 - staked)
                    #expect(await eventually { try await Self.balance(system, player.userID, player.accountID) == expected })
                    let id = try #require(placed.id.flatMap { BetID($0) })
                    let ledger = try await system.redis.xrange(Self.keys.ledger(player.userID))
                    #expect(ledger.contains { $0.fields?["bet_id"] == id.description && $0.fields?["type"] == "stake" })
                    #expect(try await system.request(.GET, "/bets/\(id)", token: player.token).status == 200)
                    // Back as a replica of the promoted node, its link up, for the next round.
                    try await master.launch()
                    try await cluster.waitUntilHealthy(timeout: .seconds(30))
                }
                let worker = try await BetMakerProcesses.startWorker(redis: cluster, settings: Self.quickReconciler)
                #expect(await eventually { try await Self.reconciled(system, userID: player.userID) })
                #expect(await worker.stop() == 0)
                try await Self.expectCheckClean(cluster)
            }
        }
    }

    /// `kill -9` of the master of the player's slot while four clients place bets with money, each with
    /// its Idempotency-Key and retried on 5xx until answered: every bet answered 201 exists, the balance
    /// is the deposit less exactly the stakes accepted, and the checker is clean.
    @Test func killingTheUsersMasterWhileBetsArePlacedLosesNoAnsweredBetAndTakesNoStakeTwice() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 1) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: Self.waitForAReplica) { system in
                let player = try await Self.demoPlayer(system)
                let worker = try await BetMakerProcesses.startWorker(redis: cluster, settings: Self.quickReconciler)
                let answered = AnswerCount()
                let token = player.token
                let results = try await withThrowingTaskGroup(of: [(status: Int, id: String?, cents: Int64)].self) { group in
                    for client in 0..<4 {
                        group.addTask {
                            var results: [(status: Int, id: String?, cents: Int64)] = []
                            for index in 0..<15 {
                                let cents = Int64(100 + client * 10 + index)
                                let result = try await Self.place(system, token: token, cents: cents, key: "c\(client)-\(index)")
                                results.append((result.status, result.id, cents))
                                answered.count.withLock { $0 += 1 }
                            }
                            return results
                        }
                    }
                    #expect(await eventually { answered.count.withLock { $0 } >= 12 })
                    let master = try await cluster.owner(ofSlot: HashSlot.of(Self.keys.user(player.userID)))
                    await cluster.crash(master)
                    var all: [(status: Int, id: String?, cents: Int64)] = []
                    for try await part in group { all += part }
                    return all
                }
                try await cluster.waitUntilHealthy(timeout: .seconds(30))
                #expect(results.count == 60)
                // A refusal (4xx) is final and changed nothing; what counts is what was accepted.
                let accepted = results.filter { $0.status == 201 }
                #expect(accepted.count > 40, "\(results.filter { $0.status != 201 })")
                #expect(Set(accepted.compactMap(\.id)).count == accepted.count)
                for bet in accepted {
                    #expect(try await system.request(.GET, "/bets/\(bet.id ?? "none")", token: player.token).status == 200)
                }
                #expect(await eventually { try await Self.reconciled(system, userID: player.userID) })
                let stakes = accepted.reduce(Int64(0)) { $0 + $1.cents }
                #expect(try await Self.balance(system, player.userID, player.accountID) == String(100_000 - stakes))
                #expect(await worker.stop() == 0)
                try await Self.expectCheckClean(cluster)
            }
        }
    }

    /// The worker killed (SIGKILL) between a settled batch and its credits: the event is settled (the
    /// credits owed in its shard's outbox), a first worker is killed once it applied most, and a
    /// second applies each of the rest once: every winner paid exactly once (the checker counts them).
    @Test func aWorkerKilledBetweenSettlementAndItsCreditsLeavesThemToTheNextOnce() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 1) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: Self.waitForAReplica) { system in
                let event = "c30-owed"
                let catalogue = CatalogueStore(redis: system.redis, keys: Self.keys)
                let entry = CatalogueEvent(
                    id: event, title: event, homeTeam: "Home", awayTeam: "Away", startsAt: 4_000_000_000_000,
                    odds: Odds(hundredths: 250), isOpen: true)
                guard case .created = try await catalogue.create(entry) else { throw TestSupportError("\(event) not created") }
                let players = try await ProcessFaultTests.fundedUsers(12, system)
                let store = BetStore(redis: system.redis, keys: Self.keys, ids: IDGenerator(node: 72))
                for round in 0..<5 {
                    for player in players {
                        let outcome = try await store.place(
                            eventID: event, amount: Money(cents: 100 + Int64(round)), userID: player.userID, accountID: player.accountID)
                        guard case .placed = outcome else { throw TestSupportError("not placed: \(outcome)") }
                    }
                }
                _ = try await store.report(eventID: event, result: .win)
                _ = try await Settler(redis: system.redis, keys: Self.keys, batchSize: 7).settle(eventID: event, result: .win)
                let outbox = CreditOutbox(redis: system.redis, keys: Self.keys)
                #expect(try await outbox.isCaughtUp() == false)
                let credited = { () async throws -> Int in
                    var count = 0
                    for player in players {
                        count += try await system.redis.send(RedisCommand("HLEN", Self.keys.credited(player.userID))).int(for: "HLEN")
                    }
                    return count
                }
                #expect(try await credited() == 0)

                // One player's account is damaged, so the first worker cannot apply their five credits: they are
                // still owed when it is killed, whatever it had applied of the others'.
                let damaged = Self.keys.accounts(players[0].userID)
                let kept = try #require(try await system.redis.hget(damaged, String(players[0].accountID)))
                _ = try await system.redis.hset(damaged, [String(players[0].accountID): "lots"])
                let first = try await BetMakerProcesses.startWorker(redis: cluster, name: "worker-1")
                #expect(await eventually(every: .milliseconds(2)) { try await credited() >= 50 })
                _ = await first.kill9()
                #expect(try await credited() <= 55)
                _ = try await system.redis.hset(damaged, [String(players[0].accountID): kept])
                let second = try await BetMakerProcesses.startWorker(
                    redis: cluster, name: "worker-2", settings: ["WORKER_CLAIM_MIN_IDLE_MS": "300", "WORKER_CLAIM_INTERVAL_MS": "100"])
                #expect(await eventually { try await outbox.isCaughtUp() })
                #expect(try await credited() == 60)
                // Each player: 1,000,000.00 less five stakes, plus five payouts at 2.50 (rounded down to the cent).
                let stakes = (0..<5).map { 100 + Int64($0) }
                let expected = String(100_000_000 - stakes.reduce(0, +) + stakes.reduce(0) { $0 + $1 * 250 / 100 })
                for player in players {
                    #expect(try await Self.balance(system, player.userID, player.accountID) == expected)
                }
                #expect(await second.stop() == 0)
                try await Self.expectCheckClean(cluster)
            }
        }
    }

    /// `kill -9` of the master of an event's shard while the worker settles it (2,000 bets, a fifth with
    /// money, batches of 10; the worker without WAIT, so batches may be lost): after the failover it
    /// settles to the end, and the checker finds each winner paid exactly once.
    @Test func killingTheEventsMasterWhileItSettlesPaysEachWinnerOnce() async throws {
        try await withRedisCluster(masters: 3, replicasPerMaster: 1) { cluster in
            try await withBetMakerSystem(on: cluster, apiSettings: Self.waitForAReplica.merging(ProcessFaultTests.resultsFeed) { $1 }) {
                system in
                let event = "c30-settling"
                try await ProcessFaultTests.place(2_000, onEach: [event], system)
                let worker = try await BetMakerProcesses.startWorker(
                    redis: cluster,
                    settings: [
                        "SETTLEMENT_BATCH_SIZE": "10", "WORKER_CLAIM_MIN_IDLE_MS": "500", "WORKER_CLAIM_INTERVAL_MS": "200",
                    ])
                #expect(try await ProcessFaultTests.report(event, .win, system) == 202)
                let eventKey = Self.keys.event(event)
                #expect(
                    await eventually(every: .milliseconds(2)) { (Int(try await system.redis.hget(eventKey, "settle_pos") ?? "0") ?? 0) > 0 }
                )
                let master = try await cluster.owner(ofSlot: HashSlot.of(eventKey))
                await cluster.crash(master)
                try await cluster.waitUntilHealthy(timeout: .seconds(30))
                let unsettled = Self.keys.unsettledEvents(shard: Self.keys.shard(of: event))
                let outbox = CreditOutbox(redis: system.redis, keys: Self.keys)
                #expect(
                    await eventually(timeout: .seconds(90)) {
                        let settled = try await system.redis.zscore(unsettled, event) == nil
                        let position = try await system.redis.hget(eventKey, "settle_pos")
                        let paid = try await outbox.isCaughtUp()
                        return settled && position == "2000" && paid
                    })
                #expect(await worker.stop() == 0)
                try await Self.expectCheckClean(cluster, bets: 2_000)
            }
        }
    }
}

/// How many bets the concurrent clients have had answered, shared with the test that waits for some.
final class AnswerCount: Sendable {
    let count = Mutex(0)
}
