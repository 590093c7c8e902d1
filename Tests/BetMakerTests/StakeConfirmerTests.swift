import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// A bet whose stake a failover of the user's master lost (`LostWrites.loseStake`), repaired by the
/// worker's `StakeConfirmer` (docs/decisions/0314); every test ends with the checker clean or naming
/// what is left for an operator.
@Suite struct StakeConfirmerTests {
    typealias Stores = WalletStoreTests.Stores
    static let keys = WalletStoreTests.keys

    static func confirmer(_ redis: RedisClient) -> StakeConfirmer {
        StakeConfirmer(redis: redis, keys: keys, maximumAge: .zero, batchSize: 2)
    }

    static func checker(_ redis: RedisClient) -> InvariantChecker {
        InvariantChecker(redis: redis, keys: keys, pageSize: 5, maximumHoldAge: .zero)
    }

    func placeAndLose(_ stores: Stores, user: Int, account: Int, cents: Int64) async throws -> Bet {
        guard
            case .placed(let bet) = try await stores.bets.place(eventID: "derby", amount: Money(cents: cents), userID: user, accountID: nil)
        else { throw TestSupportError("not placed") }
        try await LostWrites.loseStake(
            redis: stores.redis, keys: Self.keys, bet: bet.id, userID: user, accountID: account, amount: Money(cents: cents))
        return bet
    }

    @Test func aBetWhoseStakeVanishedIsStakedAgainOnceAndSettlesAsAnyOther() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby", odds: 200)
            let (user, account) = try await stores.player("failover", balance: Money(cents: 10_000))
            let kept = try await placeAndLose(stores, user: user, account: account, cents: 1_000)
            // Two more bets whose stakes are where they should be, around it.
            for _ in 0..<2 {
                guard case .placed = try await stores.bets.place(eventID: "derby", amount: Money(cents: 500), userID: user, accountID: nil)
                else { throw TestSupportError("not placed") }
            }
            #expect(try await stores.balance(user, account) == Money(cents: 9_000))
            // Money created: the checker sees a bet with no stake, and the unconfirmed entries.
            let before = try await Self.checker(redis).check()
            #expect(!before.isClean)
            #expect(before.violations.contains { $0.key == Self.keys.unconfirmedStakes(of: "derby") })

            #expect(try await Self.confirmer(redis).confirm() == StakeConfirmer.Pass(confirmed: 2, restaked: 1))
            #expect(try await stores.balance(user, account) == Money(cents: 8_000))
            #expect(try await redis.zcard(Self.keys.unconfirmedStakes(of: "derby")) == 0)
            #expect(try await redis.lrange(Self.keys.userBets(user), 0, -1).contains(kept.id.description))
            // Once: a second pass finds nothing.
            #expect(try await Self.confirmer(redis).confirm() == StakeConfirmer.Pass())
            let after = try await Self.checker(redis).check()
            #expect(after.isClean, "\(after.violations)")
            // It settles and pays like any other.
            _ = try await stores.bets.report(eventID: "derby", result: .win)
            _ = try await stores.settler.settle(eventID: "derby", result: .win)
            #expect(try await stores.applyCredits() == 3)
            #expect(try await stores.balance(user, account) == Money(cents: 12_000))
            try await stores.expectClean()
        }
    }

    @Test func aLostStakeTheAccountNoLongerCoversIsLeftListedAndReported() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, account) = try await stores.player("spent", balance: Money(cents: 1_000))
            let bet = try await placeAndLose(stores, user: user, account: account, cents: 1_000)
            // The player spent the money again before the repair.
            guard case .placed = try await stores.bets.place(eventID: "derby", amount: Money(cents: 800), userID: user, accountID: nil)
            else { throw TestSupportError("not placed") }
            #expect(try await Self.confirmer(redis).confirm() == StakeConfirmer.Pass(confirmed: 1, lost: 1))
            // Nothing was debited below zero; the entry stays, and the checker names it for an operator.
            #expect(try await stores.balance(user, account) == Money(cents: 200))
            #expect(try await redis.zscore(Self.keys.unconfirmedStakes(of: "derby"), bet.id.description) != nil)
            let report = try await Self.checker(redis).check()
            #expect(
                report.violations.contains { $0.key == Self.keys.unconfirmedStakes(of: "derby") && $0.detail.contains(bet.id.description) })
        }
    }

    @Test func aYoungEntryIsLeftForLater() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, _) = try await stores.player("young", balance: Money(cents: 1_000))
            guard case .placed = try await stores.bets.place(eventID: "derby", amount: Money(cents: 100), userID: user, accountID: nil)
            else { throw TestSupportError("not placed") }
            let patient = StakeConfirmer(redis: redis, keys: Self.keys, maximumAge: .seconds(60))
            #expect(try await patient.confirm() == StakeConfirmer.Pass())
            #expect(try await redis.zcard(Self.keys.unconfirmedStakes(of: "derby")) == 1)
        }
    }
}
