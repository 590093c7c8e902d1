import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// Users, accounts, payments, the catalogue and bets with money, through the stores and scripts
/// against a real Redis; every test ends with the invariant checker clean.
@Suite struct WalletStoreTests {
    static let keys = RedisKeys(prefix: "w:")

    struct Stores {
        let redis: RedisClient
        let bets: BetStore
        let accounts: AccountStore
        let catalogue: CatalogueStore
        let settler: Settler

        init(_ redis: RedisClient) {
            self.redis = redis
            bets = BetStore(redis: redis, keys: WalletStoreTests.keys, ids: IDGenerator(node: 5))
            accounts = AccountStore(redis: redis, keys: WalletStoreTests.keys)
            catalogue = CatalogueStore(redis: redis, keys: WalletStoreTests.keys)
            settler = Settler(redis: redis, keys: WalletStoreTests.keys, batchSize: 4)
        }

        /// An active player with a first account holding `balance`.
        func player(_ login: String, balance: Money) async throws -> (userID: Int, accountID: Int) {
            guard case .created(let user, let account, _) = try await accounts.register(login: login, passwordHash: "x", active: true)
            else {
                throw TestSupportError("\(login) not registered")
            }
            if balance.cents > 0 {
                guard
                    case .credited = try await accounts.deposit(
                        transactionID: "seed-\(login)", userID: user.id, accountID: account.id, amount: balance)
                else { throw TestSupportError("no deposit for \(login)") }
            }
            return (user.id, account.id)
        }

        func openEvent(_ id: String, odds: Int64 = 185) async throws {
            let event = CatalogueEvent(
                id: id, title: id, homeTeam: "Home", awayTeam: "Away", startsAt: 4_000_000_000_000, odds: Odds(hundredths: odds),
                isOpen: true)
            guard case .created = try await catalogue.create(event) else { throw TestSupportError("\(id) not created") }
        }

        func balance(_ userID: Int, _ accountID: Int) async throws -> Money? {
            try await accounts.accounts(userID: userID).first { $0.id == accountID }?.balance
        }

        /// Applies what the credits outboxes owe, as the worker's relay does; how many credits.
        @discardableResult
        func applyCredits() async throws -> Int {
            try await CreditOutbox(redis: redis, keys: WalletStoreTests.keys).drain()
        }

        func expectClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let report = try await InvariantChecker(redis: redis, keys: WalletStoreTests.keys, pageSize: 7).check()
            #expect(report.isClean, "\(report.violations.prefix(10))", sourceLocation: sourceLocation)
        }
    }

    // MARK: Users

    @Test func registrationMakesAPendingUserWithAnAccountAndASingleUseActivation() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            guard case .created(let user, let account, let token?) = try await stores.accounts.register(login: "Alice", passwordHash: "h")
            else {
                Issue.record("not registered with a token")
                return
            }
            #expect(user.status == .pending && user.role == .player && user.activatedAt == nil)
            #expect(try await stores.accounts.accounts(userID: user.id) == [Account(id: account.id, balance: Money(cents: 0))])
            // Logins are unique whatever their case.
            #expect(try await stores.accounts.register(login: "ALICE", passwordHash: "h") == .loginTaken(existingUserID: user.id))
            #expect(try await stores.accounts.credentials(login: "aLiCe")?.user.id == user.id)
            // Only the token's digest is stored, and it expires.
            let tokenKey = Self.keys.activation(sha256Hex(token))
            let ttl = try await redis.send(RedisCommand("PTTL", tokenKey)).int(for: "PTTL")
            #expect(ttl > 47 * 3600 * 1000 && ttl <= 48 * 3600 * 1000)
            #expect(try await redis.exists([Self.keys.activation(token)]) == 0)

            guard case .activated(let active) = try await stores.accounts.activate(token: token) else {
                Issue.record("not activated")
                return
            }
            #expect(active.status == .active && active.activatedAt != nil)
            #expect(try await stores.accounts.activate(token: token) == .invalid)
            #expect(try await stores.accounts.activate(token: "nonsense") == .invalid)
            try await stores.expectClean()
        }
    }

    @Test func aDisabledUserCannotActivateAndEnablingActivates() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            guard case .created(let user, _, let token?) = try await stores.accounts.register(login: "bob", passwordHash: "h") else {
                Issue.record("not registered")
                return
            }
            #expect(try await stores.accounts.setActive(userID: user.id, false)?.status == .disabled)
            #expect(try await stores.accounts.activate(token: token) == .disabled)
            #expect(try await stores.accounts.setActive(userID: user.id, true)?.status == .active)
            #expect(try await stores.accounts.user(id: user.id)?.activatedAt != nil)
            #expect(try await stores.accounts.setActive(userID: 999, true) == nil)
            try await stores.expectClean()
        }
    }

    // MARK: Payments

    @Test func aPaymentIsCreditedOnceAndCreatesItsAccount() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 0))
            let bob = try await stores.player("bob", balance: Money(cents: 0))
            let amount = Money(cents: 10_000)
            guard
                case .credited(let first) = try await stores.accounts.deposit(
                    transactionID: "t-1", userID: alice.userID, accountID: 50, amount: amount)
            else {
                Issue.record("not credited")
                return
            }
            #expect(first.accountCreated && first.balance == amount)
            #expect(
                try await stores.accounts.deposit(transactionID: "t-1", userID: alice.userID, accountID: 50, amount: amount)
                    == .replayed(first))
            // The same transaction id with other values changes nothing.
            #expect(
                try await stores.accounts.deposit(transactionID: "t-1", userID: alice.userID, accountID: 50, amount: Money(cents: 1))
                    == .conflict(userID: alice.userID, accountID: 50, amount: amount))
            #expect(try await stores.balance(alice.userID, 50) == amount)
            // Account 50 is Alice's now; unknown users get nothing.
            #expect(
                try await stores.accounts.deposit(transactionID: "t-2", userID: bob.userID, accountID: 50, amount: amount)
                    == .foreignAccount)
            #expect(try await stores.accounts.deposit(transactionID: "t-3", userID: 777, accountID: 51, amount: amount) == .noSuchUser)
            // New accounts take ids past any a payment created.
            guard case .created(_, let account, _) = try await stores.accounts.register(login: "carol", passwordHash: "h") else {
                Issue.record("not registered")
                return
            }
            #expect(account.id > 50)
            let ledger = try await stores.accounts.transactions(userID: alice.userID, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.deposit])
            #expect(ledger.first?.paymentID == "t-1" && ledger.first?.balance == amount && ledger.first?.accountID == 50)
            try await stores.expectClean()
        }
    }

    @Test func twentyConcurrentDeliveriesOfOnePaymentCreditItOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 0))
            let outcomes = try await withThrowingTaskGroup(of: AccountStore.DepositOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await stores.accounts.deposit(
                            transactionID: "same", userID: alice.userID, accountID: alice.accountID, amount: Money(cents: 2500))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .credited = $0 { true } else { false } }.count == 1)
            #expect(outcomes.filter { if case .replayed = $0 { true } else { false } }.count == 19)
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 2500))
            try await stores.expectClean()
        }
    }

    // MARK: The catalogue

    @Test func theCatalogueListsOpenEventsByStartAndKeepsItsRules() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            // Far in the future: bets close at kick-off, and "middle" takes one below.
            let future: Int64 = 4_000_000_000_000
            for (id, start) in [("late", future + 3_000), ("early", future + 1_000), ("middle", future + 2_000)] {
                let event = CatalogueEvent(
                    id: id, title: id, homeTeam: "H", awayTeam: "A", startsAt: start, odds: Odds(hundredths: 150), isOpen: true)
                #expect(try await stores.catalogue.create(event) == .created(event))
                #expect(try await stores.catalogue.create(event) == .exists)
            }
            func open() async throws -> [String] { try await stores.catalogue.list(openOnly: true, limit: 10, after: nil).events.map(\.id) }
            #expect(try await open() == ["early", "middle", "late"])
            let firstPage = try await stores.catalogue.list(openOnly: true, limit: 2, after: nil)
            let secondPage = try await stores.catalogue.list(openOnly: true, limit: 2, after: firstPage.nextCursor)
            #expect(firstPage.events.map(\.id) == ["early", "middle"] && secondPage.events.map(\.id) == ["late"])
            #expect(secondPage.nextCursor == nil)

            var moved = CatalogueStore.Changes()
            moved.startsAt = future + 500
            #expect(try await stores.catalogue.update(id: "late", moved) != .missing)
            #expect(try await open() == ["late", "early", "middle"])
            #expect(try await stores.bets.report(eventID: "early", result: .win) == .reported)
            #expect(try await open() == ["late", "middle"])
            var reopen = CatalogueStore.Changes()
            reopen.isOpen = true
            #expect(try await stores.catalogue.update(id: "early", reopen) == .closed(.win))
            #expect(try await stores.catalogue.list(openOnly: false, limit: 10, after: nil).events.count == 3)

            _ = try await stores.bets.place(eventID: "middle", amount: Money(cents: 100))
            #expect(try await stores.catalogue.delete(id: "middle") == .hasBets(1))
            #expect(try await stores.catalogue.delete(id: "late") == .deleted)
            #expect(try await stores.catalogue.delete(id: "late") == .missing)
            #expect(try await stores.catalogue.list(openOnly: false, limit: 10, after: nil).events.map(\.id) == ["early", "middle"])
            try await stores.expectClean()
        }
    }
}
