import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The user-slot steps of money across slots (`Wallet`): holds, releases and credits against a real
/// Redis, each idempotent, each refusal changing nothing.
@Suite struct WalletHoldTests {
    typealias Stores = WalletStoreTests.Stores
    static let keys = WalletStoreTests.keys

    static func bet(_ serial: String) -> MoneyReference { .bet(BetID(eventID: "match", serial: serial)) }

    /// Everything a user's money is: balances, ledger length, holds, released holds, lists, credited.
    static func snapshot(_ redis: RedisClient, _ userID: Int) async throws -> [String] {
        let replies = try await redis.pipeline([
            RedisCommand("HGETALL", keys.accounts(userID)), RedisCommand("XLEN", keys.ledger(userID)),
            RedisCommand("HGETALL", keys.holds(userID)), RedisCommand("HGETALL", keys.releasedHolds(userID)),
            RedisCommand("LRANGE", keys.userBets(userID), "0", "-1"), RedisCommand("LRANGE", keys.userTrades(userID), "0", "-1"),
            RedisCommand("HGETALL", keys.credited(userID)),
        ])
        return try replies.map { "\(try $0.get())" }
    }

    @Test func aHoldTakesTheStakeOnceAndAPostKeepsItSpent() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let wallet = Wallet(redis: redis, keys: Self.keys)
            let (user, account) = try await stores.player("holder", balance: Money(cents: 10_000))
            let reference = Self.bet("AAAAAAAAAAAA")
            guard case .held(let hold) = try await wallet.hold(reference, userID: user, amount: Money(cents: 3_000), accountID: nil) else {
                Issue.record("not held")
                return
            }
            #expect(hold.accountID == account && hold.amount == Money(cents: 3_000) && hold.reference == reference)
            #expect(try await stores.balance(user, account) == Money(cents: 7_000))
            // A repeat answers the first outcome and takes nothing more.
            let before = try await Self.snapshot(redis, user)
            #expect(try await wallet.hold(reference, userID: user, amount: Money(cents: 3_000), accountID: nil) == .held(hold))
            #expect(try await Self.snapshot(redis, user) == before)
            #expect(try await wallet.holds(userID: user) == [hold])
            #expect(try await redis.lrange(Self.keys.userBets(user), 0, -1) == [reference.id])

            #expect(try await wallet.release(reference, userID: user, .post) == .posted)
            #expect(try await wallet.release(reference, userID: user, .post) == .alreadyReleased(.post))
            #expect(try await wallet.release(reference, userID: user, .void) == .alreadyReleased(.post))
            #expect(try await wallet.hold(reference, userID: user, amount: Money(cents: 3_000), accountID: nil) == .released(.post))
            #expect(try await stores.balance(user, account) == Money(cents: 7_000))
            #expect(try await wallet.holds(userID: user).isEmpty)
            let ledger = try await stores.accounts.transactions(userID: user, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.stake, .deposit])
            #expect(ledger.first?.betID == reference.id && ledger.first?.amount == Money(cents: -3_000))
        }
    }

    @Test func aVoidGivesTheStakeBackOnceWithAReleaseEntry() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let wallet = Wallet(redis: redis, keys: Self.keys)
            let (user, account) = try await stores.player("voider", balance: Money(cents: 5_000))
            let reference = MoneyReference.trade("BTC~AAAAAAAAAAAB")
            guard case .held = try await wallet.hold(reference, userID: user, amount: Money(cents: 5_000), accountID: account) else {
                Issue.record("not held")
                return
            }
            #expect(try await redis.lrange(Self.keys.userTrades(user), 0, -1) == [reference.id])
            #expect(try await wallet.release(reference, userID: user, .void) == .voided(balance: Money(cents: 5_000)))
            let after = try await Self.snapshot(redis, user)
            #expect(try await wallet.release(reference, userID: user, .void) == .alreadyReleased(.void))
            #expect(try await wallet.release(reference, userID: user, .post) == .alreadyReleased(.void))
            #expect(try await wallet.hold(reference, userID: user, amount: Money(cents: 5_000), accountID: account) == .released(.void))
            #expect(try await Self.snapshot(redis, user) == after)
            #expect(try await stores.balance(user, account) == Money(cents: 5_000))
            let ledger = try await stores.accounts.transactions(userID: user, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.release, .stake, .deposit])
            #expect(ledger.first?.tradeID == reference.id && ledger.first?.amount == Money(cents: 5_000))
            #expect(try await wallet.release(Self.bet("NEVERHELD000"), userID: user, .void) == .noHold)
        }
    }

    @Test func refusedHoldsChangeNothing() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let wallet = Wallet(redis: redis, keys: Self.keys)
            let (user, account) = try await stores.player("poor", balance: Money(cents: 2_000))
            let before = try await Self.snapshot(redis, user)
            let reference = Self.bet("AAAAAAAAAAAC")
            #expect(
                try await wallet.hold(reference, userID: user, amount: Money(cents: 2_001), accountID: nil)
                    == .insufficientFunds(balance: Money(cents: 2_000)))
            #expect(try await wallet.hold(reference, userID: user, amount: Money(cents: 1), accountID: account + 1000) == .noAccount)
            #expect(try await Self.snapshot(redis, user) == before)
            guard case .created(let pending, _, _) = try await stores.accounts.register(login: "sleeper", passwordHash: "x") else {
                Issue.record("not registered")
                return
            }
            #expect(try await wallet.hold(reference, userID: pending.id, amount: Money(cents: 1), accountID: nil) == .inactiveUser)
            guard
                case .created(let admin, _, _) = try await stores.accounts.register(
                    login: "boss", passwordHash: "x", role: .admin, active: true)
            else {
                Issue.record("not registered")
                return
            }
            #expect(try await wallet.hold(reference, userID: admin.id, amount: Money(cents: 1), accountID: nil) == .staff(.admin))
            #expect(try await wallet.holds(userID: pending.id).isEmpty)
            #expect(try await wallet.holds(userID: admin.id).isEmpty)
        }
    }

    @Test func anIdempotencyKeyAnswersItsHoldUntilItIsVoided() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let wallet = Wallet(redis: redis, keys: Self.keys)
            let (user, account) = try await stores.player("retrier", balance: Money(cents: 10_000))
            let key = IdempotencyKey(key: "k1", fingerprint: "match|30.00")
            let first = Self.bet("AAAAAAAAAAAD")
            guard
                case .held(let hold) = try await wallet.hold(
                    first, userID: user, amount: Money(cents: 3_000), accountID: nil, idempotency: key)
            else {
                Issue.record("not held")
                return
            }
            // A retry under a fresh reference learns the first one and its pending hold; nothing is taken.
            let second = Self.bet("AAAAAAAAAAAE")
            #expect(
                try await wallet.hold(second, userID: user, amount: Money(cents: 3_000), accountID: nil, idempotency: key)
                    == .replayed(reference: first, pending: hold))
            #expect(
                try await wallet.hold(
                    second, userID: user, amount: Money(cents: 4_000), accountID: nil,
                    idempotency: IdempotencyKey(key: "k1", fingerprint: "other"))
                    == .idempotencyKeyReused)
            #expect(try await stores.balance(user, account) == Money(cents: 7_000))
            _ = try await wallet.release(first, userID: user, .post)
            #expect(
                try await wallet.hold(second, userID: user, amount: Money(cents: 3_000), accountID: nil, idempotency: key)
                    == .replayed(reference: first, pending: nil))
            // A voided hold placed nothing: its key serves the next request.
            let other = IdempotencyKey(key: "k2", fingerprint: "match|10.00")
            let third = Self.bet("AAAAAAAAAAAF")
            _ = try await wallet.hold(third, userID: user, amount: Money(cents: 1_000), accountID: nil, idempotency: other)
            _ = try await wallet.release(third, userID: user, .void)
            let fourth = Self.bet("AAAAAAAAAAAG")
            guard case .held = try await wallet.hold(fourth, userID: user, amount: Money(cents: 1_000), accountID: nil, idempotency: other)
            else {
                Issue.record("the key of a voided hold was not free")
                return
            }
            #expect(try await stores.balance(user, account) == Money(cents: 6_000))
            #expect(try await redis.hget(Self.keys.userIdempotency(user, sha256Hex("k2")), "id") == fourth.id)
        }
    }

    @Test func eachCreditIsAppliedOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let wallet = Wallet(redis: redis, keys: Self.keys)
            let (user, account) = try await stores.player("winner", balance: Money(cents: 1_000))
            let payout = Wallet.Credit(reference: Self.bet("AAAAAAAAAAAH"), kind: .payout, accountID: account, amount: Money(cents: 5_550))
            let refund = Wallet.Credit(reference: .trade("ETH~AAAAAAAAAAAJ"), kind: .refund, accountID: account, amount: Money(cents: 200))
            // A credit delivered twice in one call is applied once.
            let first = try await wallet.apply([payout, refund, payout], userID: user)
            #expect(first.applied == 2 && first.alreadyApplied == 1)
            #expect(try await stores.balance(user, account) == Money(cents: 6_750))
            let after = try await Self.snapshot(redis, user)
            let again = try await wallet.apply([refund, payout], userID: user)
            #expect(again.applied == 0 && again.alreadyApplied == 2)
            #expect(try await Self.snapshot(redis, user) == after)
            let ledger = try await stores.accounts.transactions(userID: user, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.refund, .payout, .deposit])
            #expect(
                ledger[0].tradeID == "ETH~AAAAAAAAAAAJ" && ledger[1].betID == payout.reference.id
                    && ledger[0].balance == Money(cents: 6_750))

            // A credit to an account that is not there refuses the whole call: nothing applied.
            let fresh = Wallet.Credit(reference: Self.bet("AAAAAAAAAAAK"), kind: .payout, accountID: account, amount: Money(cents: 1))
            let stray = Wallet.Credit(reference: Self.bet("AAAAAAAAAAAM"), kind: .payout, accountID: account + 99, amount: Money(cents: 1))
            await #expect(throws: RedisError.self) { try await wallet.apply([fresh, stray], userID: user) }
            #expect(try await Self.snapshot(redis, user) == after)
        }
    }
}
