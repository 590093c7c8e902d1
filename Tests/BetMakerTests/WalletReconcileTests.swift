import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Bets with money stopped between their steps (the first step called alone), finished by the
/// reconciler or by a retry; and the race for one balance. Every test ends with the checker clean.
@Suite struct WalletReconcileTests {
    typealias Stores = WalletStoreTests.Stores
    static let keys = WalletStoreTests.keys

    static func reconciler(_ redis: RedisClient) -> HoldReconciler {
        HoldReconciler(redis: redis, keys: keys, maximumAge: .zero)
    }

    static func checker(_ redis: RedisClient, maximumHoldAge: Duration? = nil) -> InvariantChecker {
        InvariantChecker(redis: redis, keys: keys, pageSize: 5, maximumHoldAge: maximumHoldAge)
    }

    @Test func aHoldWhoseBetNeverCameIsVoidedAndALateBetIsRefused() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, account) = try await stores.player("crashed", balance: Money(cents: 10_000))
            // The API took the stake and died before the event's step.
            let id = BetID(eventID: "derby", serial: IDGenerator(node: 9).next())
            guard
                case .held(let hold) = try await stores.bets.wallet.hold(
                    .bet(id), userID: user, amount: Money(cents: 3_000), accountID: nil)
            else {
                Issue.record("not held")
                return
            }
            #expect(try await stores.balance(user, account) == Money(cents: 7_000))
            // Meanwhile the money is where the checker looks for it: a pending hold.
            let meanwhile = try await Self.checker(redis).check()
            #expect(meanwhile.isClean, "\(meanwhile.violations)")
            #expect(meanwhile.money.holds == Money(cents: 3_000))
            // Older than the reconciler allows: reported until it runs.
            let late = try await Self.checker(redis, maximumHoldAge: .zero).check()
            #expect(late.count(.holdMismatch) == 1 && late.violationCount == 1, "\(late.violations)")

            #expect(try await Self.reconciler(redis).reconcile() == HoldReconciler.Pass(posted: 0, voided: 1, left: 0))
            #expect(try await stores.balance(user, account) == Money(cents: 10_000))
            #expect(try await Self.reconciler(redis).reconcile() == HoldReconciler.Pass())
            // The API's second step, arriving after all: refused, and nothing placed.
            await #expect(throws: RedisError.self) { try await stores.bets.finish(hold, id: id) }
            #expect(try await stores.bets.bet(id: id) == nil)
            #expect(try await stores.bets.event(id: "derby").bets == 0)
            let ledger = try await stores.accounts.transactions(userID: user, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.release, .stake, .deposit])
            let after = try await Self.checker(redis, maximumHoldAge: .zero).check()
            #expect(after.isClean, "\(after.violations)")
            #expect(after.money.holds == Money(cents: 0) && after.money.balances == Money(cents: 10_000))
        }
    }

    @Test func aBetPlacedWhoseHoldWasNeverPostedIsPosted() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby", odds: 200)
            let (user, account) = try await stores.player("halfway", balance: Money(cents: 10_000))
            let id = BetID(eventID: "derby", serial: IDGenerator(node: 9).next())
            guard case .held = try await stores.bets.wallet.hold(.bet(id), userID: user, amount: Money(cents: 2_500), accountID: nil) else {
                Issue.record("not held")
                return
            }
            // The event's step ran; the API died before posting.
            let reply = try await redis.eval(
                Scripts.placeWalletBet,
                keys: [
                    Self.keys.event("derby"), Self.keys.eventBets("derby"), Self.keys.bet(id), Self.keys.eventBettors("derby"),
                    Self.keys.abandonedBets("derby"), Self.keys.unconfirmedStakes(of: "derby"),
                ],
                arguments: [id.description, id.serial, "derby", "2500", String(user), String(account)]
            ).strings(for: "place_wallet_bet")
            #expect(reply.first == "placed")
            // The stake is counted once: as the pending bet's, not as a hold too.
            let meanwhile = try await Self.checker(redis).check()
            #expect(meanwhile.isClean, "\(meanwhile.violations)")
            #expect(meanwhile.money.holds == Money(cents: 0) && meanwhile.money.stakesHeld == Money(cents: 2_500))

            #expect(try await Self.reconciler(redis).reconcile() == HoldReconciler.Pass(posted: 1, voided: 0, left: 0))
            #expect(try await stores.bets.wallet.holds(userID: user).isEmpty)
            #expect(try await stores.balance(user, account) == Money(cents: 7_500))
            #expect(try await stores.bets.bet(id: id)?.status == .pending)
            // It settles and pays like any other.
            _ = try await stores.bets.report(eventID: "derby", result: .win)
            _ = try await stores.settler.settle(eventID: "derby", result: .win)
            #expect(try await stores.applyCredits() == 1)
            #expect(try await stores.balance(user, account) == Money(cents: 12_500))
            // The bet's stake is on the user's slot: confirmed, nothing taken again.
            let confirmed = try await StakeConfirmer(redis: redis, keys: Self.keys, maximumAge: .zero).confirm()
            #expect(confirmed == StakeConfirmer.Pass(confirmed: 1))
            let after = try await Self.checker(redis, maximumHoldAge: .zero).check()
            #expect(after.isClean, "\(after.violations)")
        }
    }

    @Test func aRetryWithItsIdempotencyKeyFinishesABetStoppedBetweenSteps() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, account) = try await stores.player("retrier", balance: Money(cents: 10_000))
            let key = IdempotencyKey(key: "user:\(user):k", fingerprint: "derby\n1000\n0")
            let id = BetID(eventID: "derby", serial: IDGenerator(node: 9).next())
            _ = try await stores.bets.wallet.hold(.bet(id), userID: user, amount: Money(cents: 1_000), accountID: nil, idempotency: key)
            guard
                case .replayed(let bet) = try await stores.bets.place(
                    eventID: "derby", amount: Money(cents: 1_000), userID: user, accountID: nil, idempotency: key)
            else {
                Issue.record("the retry did not finish the first request")
                return
            }
            #expect(bet.id == id && bet.wager?.accountID == account)
            #expect(try await stores.bets.wallet.holds(userID: user).isEmpty)
            #expect(try await stores.balance(user, account) == Money(cents: 9_000))
            // Once more, after the event got its result (the pre-read would refuse a new bet): the bet as it was.
            _ = try await stores.bets.report(eventID: "derby", result: .lose)
            #expect(
                try await stores.bets.place(eventID: "derby", amount: Money(cents: 1_000), userID: user, accountID: nil, idempotency: key)
                    == .replayed(bet))
            #expect(try await Self.reconciler(redis).reconcile() == HoldReconciler.Pass())
            try await stores.expectClean()
        }
    }

    @Test func aRefusedBetGivesTheStakeBackAndMostRefusalsNeverTouchMoney() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, account) = try await stores.player("late", balance: Money(cents: 10_000))
            #expect(try await stores.bets.report(eventID: "derby", result: .lose) == .reported)
            let ledgerBefore = try await redis.xlen(Self.keys.ledger(user))
            #expect(
                try await stores.bets.place(eventID: "derby", amount: Money(cents: 1_000), userID: user, accountID: nil)
                    == .eventClosed(.lose))
            #expect(
                try await stores.bets.place(eventID: "nowhere", amount: Money(cents: 1_000), userID: user, accountID: nil)
                    == .notInCatalogue)
            #expect(try await redis.xlen(Self.keys.ledger(user)) == ledgerBefore)
            // A refusal the pre-read cannot see (the event's step refuses): the hold is voided at once.
            try await stores.openEvent("cup")
            let id = BetID(eventID: "cup", serial: IDGenerator(node: 9).next())
            guard
                case .held(let hold) = try await stores.bets.wallet.hold(.bet(id), userID: user, amount: Money(cents: 500), accountID: nil)
            else {
                Issue.record("not held")
                return
            }
            _ = try await stores.bets.report(eventID: "cup", result: .win)
            #expect(try await stores.bets.finish(hold, id: id) == .refused(.eventClosed(.win)))
            #expect(try await stores.balance(user, account) == Money(cents: 10_000))
            #expect(try await stores.bets.wallet.holds(userID: user).isEmpty)
            try await stores.expectClean()
        }
    }

    @Test func fiftyConcurrentBetsOfThirtyAgainstAHundredAcceptExactlyThree() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            try await stores.openEvent("derby")
            let (user, account) = try await stores.player("racer", balance: Money(cents: 10_000))
            let outcomes = try await withThrowingTaskGroup(of: BetStore.PlaceOutcome.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await stores.bets.place(eventID: "derby", amount: Money(cents: 3_000), userID: user, accountID: nil)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let placed = outcomes.filter { if case .placed = $0 { true } else { false } }
            #expect(placed.count == 3)
            #expect(outcomes.filter { if case .insufficientFunds = $0 { true } else { false } }.count == 47)
            #expect(try await stores.balance(user, account) == Money(cents: 1_000))
            #expect(try await stores.bets.event(id: "derby").bets == 3)
            try await stores.expectClean()
        }
    }
}
