import BetMaker
import Foundation
import RedisClient
import TestSupport
import Testing

extension WalletStoreTests {
    // MARK: Voids and refunds

    /// A void event's bets are made void in batches and each stake with money comes back once, as a
    /// `refund` entry; a redelivered batch changes nothing. The checker is clean, and reports a refund
    /// credited twice (money still adds up then: only the count of refunds per bet shows it).
    @Test func aVoidRefundsEveryStakeOnceAndTheCheckerNoticesARefundTooMany() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let workflow = EventWorkflowStore(redis: redis, keys: Self.keys)
            let ann = try await stores.player("ann", balance: Money(cents: 10_000))
            try await stores.openEvent("abandoned")
            var ids: [BetID] = []
            for cents in [1000, 250, 1] as [Int64] {
                guard
                    case .placed(let bet) = try await stores.bets.place(
                        eventID: "abandoned", amount: Money(cents: cents), userID: ann.userID, accountID: ann.accountID)
                else { throw TestSupportError("not placed") }
                ids.append(bet.id)
            }
            guard case .placed = try await stores.bets.place(eventID: "abandoned", amount: Money(cents: 700)) else {
                throw TestSupportError("not placed")
            }
            #expect(try await stores.balance(ann.userID, ann.accountID) == Money(cents: 8749))
            #expect(try await workflow.void(eventID: "abandoned", reason: "rain") == .changed)
            #expect(try await workflow.void(eventID: "abandoned", reason: "again") == .unchanged)
            #expect(try await stores.bets.report(eventID: "abandoned", result: .win) == .wrongState(.void))
            let report = try await stores.settler.settle(eventID: "abandoned", result: .void)
            #expect(report.voided == 4 && report.refunded == Money(cents: 1251) && report.won == 0 && report.paidOut == Money(cents: 0))
            // Settling again (a redelivered entry) refunds nothing more.
            #expect(try await stores.settler.settle(eventID: "abandoned", result: .void).flipped == 0)
            #expect(try await stores.balance(ann.userID, ann.accountID) == Money(cents: 8749))
            #expect(try await stores.applyCredits() == 3)
            #expect(try await stores.applyCredits() == 0)
            #expect(try await stores.balance(ann.userID, ann.accountID) == Money(cents: 10_000))
            #expect(try await stores.bets.bets(ids.map { ($0, .unknown) }).allSatisfy { $0.status == .void && $0.settledAt != nil })
            let event = try await stores.bets.event(id: "abandoned")
            #expect(event.workflow.state == .void && event.workflow.voidReason == "rain" && event.pending == 0)
            try await stores.expectClean()

            // A second refund of the first bet, with the balance raised to match: one refund too many.
            let accounts = Self.keys.accounts(ann.userID)
            let balance = try await redis.send(RedisCommand("HINCRBY", accounts, String(ann.accountID), "1000")).int(for: "HINCRBY")
            _ = try await redis.send(
                RedisCommand(
                    "XADD", Self.keys.ledger(ann.userID), "*", "type", "refund", "account_id", String(ann.accountID), "amount", "1000",
                    "balance", String(balance), "bet_id", ids[0].description))
            let damaged = try await InvariantChecker(redis: redis, keys: Self.keys).check()
            #expect(damaged.count(.refundMismatch) == 1 && damaged.violationCount == 1, "\(damaged.violations)")
        }
    }
}
