import RedisClient
import TestSupport
import Testing

@testable import BetMaker

extension WalletStoreTests {
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
            // Before the credits are applied, what settlement owes is in the outboxes; after, in the balances.
            let owing = try await InvariantChecker(redis: redis, keys: Self.keys, pageSize: 16).check()
            #expect(owing.isClean, "\(owing.violations.prefix(10))")
            #expect(owing.money.owed.cents > 0 && owing.money.payouts.cents == 0)
            #expect(
                owing.money.deposits == owing.money.balances + owing.money.holds + owing.money.stakesHeld + owing.money.owed
                    + owing.money.houseResult)
            #expect(try await stores.applyCredits() > 0)
            let report = try await InvariantChecker(redis: redis, keys: Self.keys, pageSize: 16).check()
            #expect(report.isClean, "\(report.violations.prefix(10))")
            #expect(report.money.deposits == Money(cents: deposited))
            #expect(report.money.owed.cents == 0 && report.money.holds.cents == 0)
            #expect(report.money.deposits == report.money.balances + report.money.stakesHeld + report.money.houseResult)
            #expect(report.money.payouts.cents > 0 && report.money.stakesHeld.cents > 0, "the mix exercised wins and open bets")
        }
    }
}
