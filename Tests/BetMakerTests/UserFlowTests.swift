import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Registration, activation, role changes and deposits as single-slot steps (issue 30): each step
/// alone, as a crash between two would leave it, then what the flow does next. Every test ends with
/// the invariant checker clean. `UserFlowClusterTests` runs the flows on a Redis Cluster.
@Suite struct UserFlowTests {
    static let keys = RedisKeys(prefix: "uf:", shards: 4)

    static func expectClean(_ redis: RedisClient, orphans: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await InvariantChecker(redis: redis, keys: keys, pageSize: 5).check()
        #expect(report.isClean, "\(report.violations.prefix(10))", sourceLocation: sourceLocation)
        #expect(report.orphanUsers == orphans, sourceLocation: sourceLocation)
    }

    static func register(_ accounts: AccountStore, _ login: String, active: Bool = true) async throws -> (user: User, account: Account) {
        guard case .created(let user, let account, _) = try await accounts.register(login: login, passwordHash: "h", active: active) else {
            throw TestSupportError("\(login) not registered")
        }
        return (user, account)
    }

    // MARK: Registration

    /// A crash after the user was written on its slot and before the login was claimed on `{g}`: the
    /// orphan is unreachable (no login, no listing, no deposit, no update) and holds no money.
    @Test func aRegistrationCutBeforeItsLoginClaimLeavesAnUnreachableOrphan() async throws {
        try await withRedis { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let userID = try await redis.incr(Self.keys.userIDs)
            let accountID = try await redis.incr(Self.keys.accountIDs)
            let created = try await redis.eval(
                Scripts.createUser, keys: [Self.keys.user(userID), Self.keys.accounts(userID)],
                arguments: ["olga", "h", "player", "active", "1", String(accountID)]
            ).strings(for: "create_user")
            #expect(created == ["created"])

            #expect(try await accounts.credentials(login: "olga") == nil)
            #expect(try await accounts.isLoginTaken("olga") == false)
            #expect(try await accounts.users(limit: 10, after: nil).users.isEmpty)
            #expect(
                try await accounts.deposit(transactionID: "t-orphan", userID: userID, accountID: accountID, amount: Money(cents: 100))
                    == .noSuchUser)
            #expect(try await redis.exists([Self.keys.paymentClaim("t-orphan")]) == 0)
            #expect(try await accounts.update(userID: userID, role: .trader) == .missing)
            #expect(try await accounts.traders(limit: 10, after: nil).traders.isEmpty)
            try await Self.expectClean(redis, orphans: 1)

            // The login is free: registering again makes a user that works.
            let olga = try await Self.register(accounts, "olga")
            #expect(olga.user.id != userID)
            #expect(try await accounts.credentials(login: "OLGA")?.user.id == olga.user.id)
            try await Self.expectClean(redis, orphans: 1)

            // Money in an orphan is a violation: nothing could have put it there.
            _ = try await redis.hset(Self.keys.accounts(userID), [String(accountID): "5"])
            let report = try await InvariantChecker(redis: redis, keys: Self.keys, pageSize: 5).check()
            #expect(report.count(.invalidAccount) == 1, "\(report.violations)")
        }
    }

    /// A refused login claim removes the user the first step wrote; an account id a payment took
    /// meanwhile is refused too, and the registration draws again.
    @Test func aRefusedClaimRemovesWhatTheFirstStepWrote() async throws {
        try await withRedis { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let alice = try await Self.register(accounts, "alice")
            #expect(try await accounts.register(login: "ALICE", passwordHash: "h") == .loginTaken(existingUserID: alice.user.id))
            let refusedID = try #require(Int(try await redis.get(Self.keys.userIDs) ?? ""))
            #expect(refusedID != alice.user.id)
            #expect(try await redis.exists([Self.keys.user(refusedID), Self.keys.accounts(refusedID)]) == 0)

            // The next account id is taken by a payment's account meanwhile.
            let takenAccount = try #require(Int(try await redis.get(Self.keys.accountIDs) ?? "")) + 1
            _ = try await redis.hset(Self.keys.accountOwners, [String(takenAccount): String(alice.user.id)])
            _ = try await redis.hset(Self.keys.accounts(alice.user.id), [String(takenAccount): "0"])
            let firstTry = refusedID + 1
            let bob = try await Self.register(accounts, "bob")
            #expect(bob.account.id == takenAccount + 1 && bob.user.id == firstTry + 1)
            #expect(try await redis.exists([Self.keys.user(firstTry), Self.keys.accounts(firstTry)]) == 0)
            #expect(try await redis.hget(Self.keys.accountOwners, String(takenAccount)) == String(alice.user.id))
            try await Self.expectClean(redis)
        }
    }

    /// Ten registrations of one login at once: one user, nine refusals, and nothing left of theirs.
    @Test func concurrentRegistrationsOfOneLoginMakeOneUserAndLeaveNoOrphan() async throws {
        try await withRedis(poolSize: 4) { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let outcomes = try await withThrowingTaskGroup(of: AccountStore.RegisterOutcome.self) { group in
                for index in 0..<10 {
                    group.addTask { try await accounts.register(login: index.isMultiple(of: 2) ? "dana" : "DANA", passwordHash: "h") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let created = outcomes.compactMap { if case .created(let user, _, _) = $0 { user } else { nil } }
            #expect(created.count == 1)
            #expect(outcomes.filter { $0 == .loginTaken(existingUserID: created.first?.id ?? 0) }.count == 9)
            #expect(try await accounts.users(limit: 20, after: nil).users.map(\.0.id) == created.map(\.id))
            try await Self.expectClean(redis)
        }
    }

    // MARK: Activation

    /// A crash after the user was activated and before the token was deleted: the token's next use
    /// changes nothing and deletes it.
    @Test func anActivationCutBeforeTheTokensDeletionIsHarmless() async throws {
        try await withRedis { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            guard case .created(let user, _, let token?) = try await accounts.register(login: "erin", passwordHash: "h") else {
                Issue.record("not registered with a token")
                return
            }
            let tokenKey = Self.keys.activation(sha256Hex(token))
            #expect(try await redis.get(tokenKey) == String(user.id))
            let first = try await redis.eval(Scripts.activateUser, keys: [Self.keys.user(user.id)], arguments: ["5"]).strings(
                for: "activate")
            #expect(first == ["activated"])
            #expect(try await accounts.activate(token: token) == .alreadyActive)
            #expect(try await redis.exists([tokenKey]) == 0)
            #expect(try await accounts.activate(token: token) == .invalid)
            #expect(try await accounts.user(id: user.id)?.activatedAt == 5)
            try await Self.expectClean(redis)
        }
    }

    // MARK: The traders index

    /// The index is written before the role is given and after it is taken: a crash between the
    /// steps leaves an entry naming a player, which the listing skips; the index never lacks a trader.
    @Test func theTradersIndexMayHoldAPlayerButNeverLacksATrader() async throws {
        try await withRedis { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let troy = try await Self.register(accounts, "troy").user
            let pat = try await Self.register(accounts, "pat").user
            func indexed() async throws -> [String] {
                try await redis.zrangeByScore(Self.keys.traders, min: .negativeInfinity, max: .positiveInfinity).map(\.member)
            }
            guard case .updated(let trader) = try await accounts.update(userID: troy.id, role: .trader) else {
                Issue.record("not updated")
                return
            }
            #expect(trader.role == .trader)
            #expect(try await indexed() == [String(troy.id)])
            #expect(try await accounts.traders(limit: 10, after: nil).traders.map(\.id) == [troy.id])

            // Pat's promotion cut after its first step: pat is indexed, still a player, and not listed.
            _ = try await redis.zadd(Self.keys.traders, [(Double(pat.id), String(pat.id))])
            #expect(try await accounts.traders(limit: 10, after: nil).traders.map(\.id) == [troy.id])
            let firstPage = try await accounts.traders(limit: 1, after: nil)
            let secondPage = try await accounts.traders(limit: 1, after: firstPage.nextCursor)
            #expect((firstPage.traders + secondPage.traders).map(\.id) == [troy.id])

            // Troy's demotion cut after its first step: the same.
            _ = try await redis.eval(Scripts.updateUser, keys: [Self.keys.user(troy.id)], arguments: ["", "1", "player"])
            #expect(try await accounts.traders(limit: 10, after: nil).traders.isEmpty)
            // Doing it again completes it; a role change refused for an administrator leaves no entry.
            #expect(try await accounts.update(userID: troy.id, role: .player) != .missing)
            #expect(try await indexed() == [String(pat.id)])
            let boss = try await Self.register(accounts, "boss")
            _ = try await redis.hset(Self.keys.user(boss.user.id), ["role": "admin"])
            #expect(try await accounts.update(userID: boss.user.id, role: .trader) == .administratorRole)
            #expect(try await indexed() == [String(pat.id)])
            try await Self.expectClean(redis)
        }
    }

    /// Administrators giving and taking the role at once: whatever role wins, a trader is indexed.
    @Test func concurrentRoleChangesNeverLeaveATraderOutOfTheIndex() async throws {
        try await withRedis(poolSize: 4) { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let users = [try await Self.register(accounts, "u1").user.id, try await Self.register(accounts, "u2").user.id]
            for round in 0..<10 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for change in 0..<8 {
                        let role: Role = (change + round).isMultiple(of: 2) ? .trader : .player
                        group.addTask { _ = try await accounts.update(userID: users[change % 2], role: role) }
                    }
                    try await group.waitForAll()
                }
                let indexed = Set(
                    try await redis.zrangeByScore(Self.keys.traders, min: .negativeInfinity, max: .positiveInfinity).map(\.member))
                for id in users where try await accounts.user(id: id)?.role == .trader {
                    #expect(indexed.contains(String(id)), "round \(round): trader \(id) is not indexed")
                }
            }
            try await Self.expectClean(redis)
        }
    }

    // MARK: Deposits

    /// A crash after the payment was claimed on `{g}` and before the credit on the user's slot: nothing
    /// is credited yet, the store is consistent, and the provider's retry completes the credit once.
    @Test func aDepositRetriedAfterACrashBetweenItsStepsIsCreditedOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let alice = try await Self.register(accounts, "alice")
            let amount = Money(cents: 7_500)
            let signature = String(repeating: "ab", count: 32)
            let claimed = try await accounts.claimPayment(
                transactionID: "t-1", userID: alice.user.id, accountID: 90, amount: amount, signature: signature)
            #expect(claimed == .claimed(accountCreated: true))
            #expect(try await accounts.accounts(userID: alice.user.id) == [Account(id: alice.account.id, balance: Money(cents: 0))])
            try await Self.expectClean(redis)

            // Between the steps the claim already holds: other values conflict, the signature is taken.
            #expect(
                try await accounts.deposit(transactionID: "t-1", userID: alice.user.id, accountID: 90, amount: Money(cents: 1))
                    == .conflict(userID: alice.user.id, accountID: 90, amount: amount))
            #expect(
                try await accounts.deposit(
                    transactionID: "t-2", userID: alice.user.id, accountID: 90, amount: Money(cents: 75), signature: signature.uppercased())
                    == .signatureReused(transactionID: "t-1"))
            #expect(try await redis.exists([Self.keys.paymentClaim("t-2")]) == 0)

            // The provider delivers again: the credit is made, once.
            guard
                case .credited(let payment) = try await accounts.deposit(
                    transactionID: "t-1", userID: alice.user.id, accountID: 90, amount: amount, signature: signature)
            else {
                Issue.record("the retry did not credit")
                return
            }
            #expect(payment.accountCreated && payment.balance == amount)
            #expect(
                try await accounts.deposit(transactionID: "t-1", userID: alice.user.id, accountID: 90, amount: amount, signature: signature)
                    == .replayed(payment))
            #expect(try await accounts.accounts(userID: alice.user.id).first { $0.id == 90 }?.balance == amount)
            #expect(try await redis.exists([Self.keys.payment(userID: alice.user.id, transactionID: "t-1")]) == 1)
            try await Self.expectClean(redis)
        }
    }

    /// Twenty deliveries of one payment at once, the first of them cut after its claim: one credit.
    @Test func concurrentRetriesAfterACrashCreditOnce() async throws {
        try await withRedis(poolSize: 4) { (_, redis) async throws in
            let accounts = AccountStore(redis: redis, keys: Self.keys)
            let alice = try await Self.register(accounts, "alice")
            let amount = Money(cents: 2_500)
            _ = try await accounts.claimPayment(
                transactionID: "same", userID: alice.user.id, accountID: alice.account.id, amount: amount, signature: nil)
            let outcomes = try await withThrowingTaskGroup(of: AccountStore.DepositOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await accounts.deposit(
                            transactionID: "same", userID: alice.user.id, accountID: alice.account.id, amount: amount)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .credited = $0 { true } else { false } }.count == 1)
            #expect(outcomes.filter { if case .replayed = $0 { true } else { false } }.count == 19)
            #expect(try await accounts.accounts(userID: alice.user.id) == [Account(id: alice.account.id, balance: amount)])
            try await Self.expectClean(redis)
        }
    }
}
