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
            bets = BetStore(redis: redis, keys: WalletStoreTests.keys, ids: BetIDGenerator(node: 5))
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
                id: id, title: id, homeTeam: "Home", awayTeam: "Away", startsAt: 1_800_000_000_000, odds: Odds(hundredths: odds),
                isOpen: true)
            guard case .created = try await catalogue.create(event) else { throw TestSupportError("\(id) not created") }
        }

        func balance(_ userID: Int, _ accountID: Int) async throws -> Money? {
            try await accounts.accounts(userID: userID).first { $0.id == accountID }?.balance
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
                    == .conflict(first))
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

    // MARK: Bets with money

    @Test func aBetWithMoneyDebitsTheStakeAndAWinPaysStakeTimesOddsOnce() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 10_000))
            try await stores.openEvent("derby", odds: 185)
            guard
                case .placed(let bet) = try await stores.bets.place(
                    eventID: "derby", amount: Money(cents: 1050), userID: alice.userID, accountID: nil)
            else {
                Issue.record("not placed")
                return
            }
            // The first account paid; the odds are locked in; 10.50 x 1.85 = 19.425, rounded down.
            #expect(
                bet.wager
                    == Wager(userID: alice.userID, accountID: alice.accountID, odds: Odds(hundredths: 185), payout: Money(cents: 1942)))
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 8950))
            #expect(try await stores.bets.bet(id: bet.id) == bet)
            // Changing the odds afterwards does not change the bet.
            var changes = CatalogueStore.Changes()
            changes.odds = Odds(hundredths: 300)
            _ = try await stores.catalogue.update(id: "derby", changes)
            #expect(try await stores.bets.bet(id: bet.id)?.wager?.payout == Money(cents: 1942))

            #expect(try await stores.bets.report(eventID: "derby", result: .win) == .reported)
            let report = try await stores.settler.settle(eventID: "derby", result: .win)
            #expect(report.won == 1 && report.paidOut == Money(cents: 1942))
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 8950 + 1942))
            // A redelivered entry settles and pays nothing again.
            let again = try await stores.settler.settle(eventID: "derby", result: .win)
            #expect(again.flipped == 0 && again.paidOut == Money(cents: 1942))
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 8950 + 1942))
            let ledger = try await stores.accounts.transactions(userID: alice.userID, limit: 10, before: nil).transactions
            #expect(ledger.map(\.kind) == [.payout, .stake, .deposit])
            #expect(ledger.map(\.amount) == [Money(cents: 1942), Money(cents: -1050), Money(cents: 10_000)])
            #expect(ledger.map(\.balance) == [Money(cents: 10_892), Money(cents: 8950), Money(cents: 10_000)])
            #expect(try await stores.bets.event(id: "derby").paidOut == Money(cents: 1942))
            try await stores.expectClean()
        }
    }

    @Test func winnersWithMoneyAreSettledInSmallerBatchesThanOtherBets() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 100_000))
            for event in ["won", "lost"] {
                try await stores.openEvent(event)
                for _ in 0..<10 {
                    _ = try await stores.bets.place(eventID: event, amount: Money(cents: 100), userID: alice.userID, accountID: nil)
                }
            }
            // A batch is 8 units of work: a won bet with money is 4 (two a call), any other bet 1.
            let settler = Settler(redis: redis, keys: Self.keys, batchSize: 8)
            _ = try await stores.bets.report(eventID: "won", result: .win)
            _ = try await stores.bets.report(eventID: "lost", result: .lose)
            let won = try await settler.settle(eventID: "won", result: .win)
            let lost = try await settler.settle(eventID: "lost", result: .lose)
            #expect(won.batches == 5 && won.flipped == 10 && won.paidOut == Money(cents: 1850))
            #expect(lost.batches == 2 && lost.flipped == 10)
            try await stores.expectClean()
        }
    }

    @Test func aBetWithMoneyIsRefusedWithoutChangingAnything() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 1000))
            let bob = try await stores.player("bob", balance: Money(cents: 1000))
            try await stores.openEvent("open")
            try await stores.openEvent("shut")
            var close = CatalogueStore.Changes()
            close.isOpen = false
            _ = try await stores.catalogue.update(id: "shut", close)
            func place(_ event: String, _ cents: Int64, account: Int? = nil, user: Int? = nil) async throws -> BetStore.PlaceOutcome {
                try await stores.bets.place(eventID: event, amount: Money(cents: cents), userID: user ?? alice.userID, accountID: account)
            }
            #expect(try await place("open", 1001) == .insufficientFunds(balance: Money(cents: 1000)))
            #expect(try await place("nowhere", 100) == .notInCatalogue)
            #expect(try await place("shut", 100) == .notOpen)
            #expect(try await place("open", 100, account: bob.accountID) == .noAccount)
            #expect(try await place("open", 100, account: 12345) == .noAccount)
            _ = try await stores.accounts.setActive(userID: alice.userID, false)
            #expect(try await place("open", 100) == .inactiveUser)
            #expect(try await stores.bets.report(eventID: "open", result: .lose) == .reported)
            #expect(try await place("open", 100, user: bob.userID) == .eventClosed(.lose))
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 1000))
            #expect(try await stores.balance(bob.userID, bob.accountID) == Money(cents: 1000))
            #expect(try await stores.bets.event(id: "open").bets == 0)
            #expect(try await stores.accounts.transactions(userID: alice.userID, limit: 10, before: nil).transactions.count == 1)
            try await stores.expectClean()
        }
    }

    @Test func fiftyConcurrentBetsOfThirtyOnOneHundredAcceptExactlyThree() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 10_000))
            try await stores.openEvent("race")
            let outcomes = try await withThrowingTaskGroup(of: BetStore.PlaceOutcome.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await stores.bets.place(
                            eventID: "race", amount: Money(cents: 3000), userID: alice.userID, accountID: alice.accountID)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .placed = $0 { true } else { false } }.count == 3)
            #expect(outcomes.filter { if case .insufficientFunds = $0 { true } else { false } }.count == 47)
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 1000))
            try await stores.expectClean()
        }
    }

    @Test func listingsShowEachUserTheirOwnBetsAndAnonymousCallersTheAnonymousOnes() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            let alice = try await stores.player("alice", balance: Money(cents: 10_000))
            let bob = try await stores.player("bob", balance: Money(cents: 10_000))
            try await stores.openEvent("shared")
            var placed: [Int: [String]] = [:]
            for index in 0..<9 {
                let outcome: BetStore.PlaceOutcome
                switch index % 3 {
                case 0:
                    outcome = try await stores.bets.place(
                        eventID: "shared", amount: Money(cents: 100), userID: alice.userID, accountID: nil)
                case 1:
                    outcome = try await stores.bets.place(eventID: "shared", amount: Money(cents: 100), userID: bob.userID, accountID: nil)
                default: outcome = try await stores.bets.place(eventID: "shared", amount: Money(cents: 100))
                }
                guard case .placed(let bet) = outcome else { throw TestSupportError("not placed") }
                placed[index % 3, default: []].append(bet.id)
            }
            for (scope, owner) in [(BetStore.Scope.user(alice.userID), 0), (.user(bob.userID), 1), (.anonymous, 2)] {
                for filter in [BetStore.Filter(), BetStore.Filter(eventID: "shared")] {
                    var seen: [String] = []
                    var cursor: String?
                    repeat {
                        let page = try await stores.bets.list(filter, scope: scope, limit: 2, cursor: cursor)
                        seen += page.bets.map(\.id)
                        cursor = page.nextCursor
                    } while cursor != nil
                    #expect(seen == placed[owner]!.reversed(), "\(scope) \(filter)")
                }
            }
            try await stores.expectClean()
        }
    }

    // MARK: The catalogue

    @Test func theCatalogueListsOpenEventsByStartAndKeepsItsRules() async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            for (id, start) in [("late", Int64(3_000)), ("early", 1_000), ("middle", 2_000)] {
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
            moved.startsAt = 500
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

    // MARK: Conservation

    /// Random deposits, bets and settlements across users, accounts and events; afterwards every
    /// balance is the sum of its ledger and deposits = balances + stakes held + the house's result.
    @Test(arguments: [1, 2, 3])
    func aRandomMixOfMoneyMovementsConservesMoney(seed: UInt64) async throws {
        try await withRedis { (_, redis) async throws in
            let stores = Stores(redis)
            var random = SplitMix64(seed: seed)
            var players: [(userID: Int, accountID: Int)] = []
            for index in 0..<4 { players.append(try await stores.player("p\(index)", balance: Money(cents: 0))) }
            let events = ["e0", "e1", "e2", "e3", "e4"]
            for (index, event) in events.enumerated() { try await stores.openEvent(event, odds: 101 + Int64(index) * 97) }
            var deposited: Int64 = 0
            var reported = Set<String>()
            for step in 0..<300 {
                let player = players[Int(random.next() % UInt64(players.count))]
                switch random.next() % 10 {
                case 0...2:
                    let cents = Int64(random.next() % 5000) + 1
                    // Some deposits go to a second account, which the payment creates.
                    let account = random.next() % 4 == 0 ? 1000 + player.userID : player.accountID
                    if case .credited = try await stores.accounts.deposit(
                        transactionID: "t-\(step)", userID: player.userID, accountID: account, amount: Money(cents: cents))
                    {
                        deposited += cents
                    }
                case 3...8:
                    let event = events[Int(random.next() % UInt64(events.count))]
                    _ = try await stores.bets.place(
                        eventID: event, amount: Money(cents: Int64(random.next() % 3000) + 1), userID: player.userID, accountID: nil)
                default:
                    // Rarely, so that events stay open for bets through most of the mix; the last never,
                    // so that some stakes are still held at the end.
                    let event = events[Int(random.next() % UInt64(events.count - 1))]
                    if random.next() % 4 == 0, reported.insert(event).inserted {
                        let result: EventResult = random.next() % 2 == 0 ? .win : .lose
                        _ = try await stores.bets.report(eventID: event, result: result)
                        _ = try await stores.settler.settle(eventID: event, result: result)
                    }
                }
            }
            // The rest but the last event get results too, a win first, so the mix always has payouts
            // and stakes still held.
            var wins = true
            for event in events.dropLast() where reported.insert(event).inserted {
                let result: EventResult = wins ? .win : .lose
                wins.toggle()
                _ = try await stores.bets.report(eventID: event, result: result)
                _ = try await stores.settler.settle(eventID: event, result: result)
            }
            let report = try await InvariantChecker(redis: redis, keys: Self.keys, pageSize: 16).check()
            #expect(report.isClean, "\(report.violations.prefix(10))")
            #expect(report.money.deposits == Money(cents: deposited))
            #expect(report.money.deposits == report.money.balances + report.money.stakesHeld + report.money.houseResult)
            #expect(report.money.payouts.cents > 0 && report.money.stakesHeld.cents > 0, "the mix exercised wins and open bets")
        }
    }
}

/// A small seeded generator, so a failing mix can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
