import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import Foundation
import NIOHTTP1
import RedisClient
import TestSupport
import Testing

extension ProcessFaultTests {
    // MARK: A void refunded while the worker is killed

    /// A 100,000-bet event with money is voided and the worker is SIGKILLed at random points of the
    /// refunds, as in `aWorkerKilledAtRandomMomentsSettlesEveryBetExactlyOnce`: every bet ends void and
    /// every stake with money is refunded exactly once (the checker counts one refund entry per void
    /// bet with money, of its stake, and money is conserved).
    @Test func aVoidOfAHundredThousandBetsRefundsEveryStakeOnceWhileTheWorkerIsKilled() async throws {
        try await withBetMakerSystem { system in
            let event = "void-kill"
            let total = 100_000
            try await Self.place(total, onEach: [event], system)
            let seeded = try await BetMakerProcesses.seedDemo(redis: system.deployment)
            #expect(seeded.status == 0, "\(seeded.output)")
            let login = try await system.request(.POST, "/auth", json: #"{"login": "admin", "password": "admin-password"}"#)
            let admin = try #require(login.string["access_token"], "\(login.body)")
            let staked = try await system.redis.hmget(Self.keys.event(event), ["staked"]).first.flatMap { $0 }

            let settings = ["SETTLEMENT_BATCH_SIZE": "500", "SETTLEMENT_PAUSE_MS": "2"]
            var worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            let voided = try await system.request(.POST, "/events/\(event)/void", json: #"{"reason": "abandoned"}"#, token: admin)
            #expect(voided.status == 202, "\(voided.body)")
            var killedAt: [Int] = []
            for _ in 0..<4 {
                let reached = try await Self.settledSoFar([event], system.redis)
                let target = min(total - 5000, reached + Int.random(in: 2000...15000))
                #expect(await eventually(every: .milliseconds(1)) { try await Self.settledSoFar([event], system.redis) >= target })
                await worker.kill9()
                let frozen = try await Self.settledSoFar([event], system.redis)
                killedAt.append(frozen)
                #expect(frozen < total, "killed before the end (at \(killedAt))")
                worker = try await BetMakerProcesses.startWorker(redis: system.deployment, name: "crashy", settings: settings)
            }
            #expect(await eventually(timeout: .seconds(120)) { try await Self.allSettled([event], system.redis) }, "killed at \(killedAt)")
            #expect(
                await eventually {
                    try await system.redis.xpendingSummary(Self.keys.eventsStream(shard: 0), group: "settlement").count == 0
                })
            #expect(killedAt.allSatisfy { $0 > 0 && $0 < total }, "every kill fell mid-refund: \(killedAt)")

            let fields = try await system.redis.hmget(
                Self.keys.event(event), ["bets", "void", "won", "lost", "settle_pos", "refunded", "paid"])
            #expect(fields[0...4].map { $0 } == [String(total), String(total), nil, nil, String(total)], "\(fields)")
            #expect(fields[6] == nil, "nothing paid out: \(fields)")
            // A fifth of the bets have money (`place`); their stakes, and only theirs, came back.
            let refunded = try #require(fields[5].flatMap { Int64($0) })
            #expect(refunded > 0 && refunded < Int64(staked ?? "0")!, "refunded \(refunded) of \(staked ?? "?") staked")
            // The refunds travel through the credits outbox: the relay applies them after the bets flip.
            #expect(await eventually(timeout: .seconds(60)) { try await CreditOutbox(redis: system.redis, keys: Self.keys).isCaughtUp() })
            #expect(await worker.stop() == 0)
            let report = try await InvariantChecker(redis: system.redis, keys: Self.keys).check()
            #expect(report.isClean, "\(report.violations.prefix(20))")
            #expect(report.money.refunds == Money(cents: refunded) && report.money.stakesHeld == Money(cents: 0), "\(report.summary)")
            let check = try await BetMakerProcesses.runCheck(redis: system.deployment)
            #expect(check.status == 0 && check.output.contains("0 violation(s); \(total) bets"), "\(check.output)")
        }
    }
}
