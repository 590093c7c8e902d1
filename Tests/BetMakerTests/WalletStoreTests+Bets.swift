import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension WalletStoreTests {
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
            // Settlement owes the payout in the shard's outbox; the relay's step applies it, once.
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 8950))
            try await stores.expectClean()
            #expect(try await stores.applyCredits() == 1)
            #expect(try await stores.balance(alice.userID, alice.accountID) == Money(cents: 8950 + 1942))
            // A redelivered entry settles and owes nothing again; a credit delivered again changes nothing.
            let again = try await stores.settler.settle(eventID: "derby", result: .win)
            #expect(again.flipped == 0 && again.paidOut == Money(cents: 1942))
            let outbox = Self.keys.creditOutbox(shard: Self.keys.shard(of: "derby"))
            _ = try await redis.send(RedisCommand("XGROUP", "SETID", outbox, CreditOutbox.consumerGroup, "0"))
            #expect(try await stores.applyCredits() == 1)
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
            // One live-feed entry per batch, naming the player whose bets it settled, with the running totals.
            let feed = try await redis.xrange(Self.keys.feed)
            #expect(feed.count == 7 && feed.allSatisfy { $0.fields?["users"] == String(alice.userID) })
            #expect(feed[4].fields?["event_id"] == "won" && feed[4].fields?["settled"] == "10" && feed[4].fields?["paid"] == "1850")
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
            var placed: [Int: [BetID]] = [:]
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
                    var seen: [BetID] = []
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
}
