import RedisClient
import TestSupport
import Testing

@testable import BetMaker

/// The invariant checker against a real Redis: a store made by the product's own code is clean, and
/// every kind of damage written by hand is reported.
@Suite struct InvariantCheckerTests {
    static let keys = RedisKeys(prefix: "t:")

    /// Events in every state: settled (WIN and LOSE), settled part way, open, reported without bets;
    /// and bets with money: two users with deposits (one into a second account a payment created),
    /// on catalogue events won, lost and still open.
    struct Fixture {
        let redis: RedisClient
        /// Bet ids per event, in list order.
        let ids: [String: [BetID]]
        /// `settle_pos` of the event settled part way.
        let partlyAt: Int
        /// The two users and their first accounts; `secondAccount` is the first user's other one.
        let users: [Int]
        let accounts: [Int]
        let secondAccount: Int

        func accountsKey(_ user: Int) -> String { InvariantCheckerTests.keys.accounts(users[user]) }
        func ledger(_ user: Int) -> String { InvariantCheckerTests.keys.ledger(users[user]) }
        func userBets(_ user: Int) -> String { InvariantCheckerTests.keys.userBets(users[user]) }

        func id(_ event: String, _ index: Int = 0) -> BetID { ids[event]![index] }
        func bet(_ event: String, _ index: Int = 0) -> String { InvariantCheckerTests.keys.bet(id(event, index)) }
        func event(_ event: String) -> String { InvariantCheckerTests.keys.event(event) }
        func list(_ event: String) -> String { InvariantCheckerTests.keys.eventBets(event) }

        @discardableResult
        func run(_ arguments: String...) async throws -> RESPValue {
            try await redis.send(RedisCommand(arguments[0], arguments: Array(arguments.dropFirst())))
        }
    }

    static let betCounts = ["won": 10, "lost": 7, "partly": 12, "open": 5]

    static func fixture(_ redis: RedisClient) async throws -> Fixture {
        // Versioned as the processes would version it, so `betmaker-worker check` reads it.
        _ = try await StorageSchema.check(redis: redis, keys: keys)
        let store = BetStore(redis: redis, keys: keys, ids: IDGenerator(node: 3))
        var ids: [String: [BetID]] = [:]
        for (event, count) in betCounts {
            for index in 0..<count {
                guard case .placed(let bet) = try await store.place(eventID: event, amount: Money(cents: 100 + Int64(index))) else {
                    throw TestSupportError("not placed")
                }
                ids[event, default: []].append(bet.id)
            }
        }
        #expect(try await store.report(eventID: "won", result: .win) == .reported)
        #expect(try await store.report(eventID: "lost", result: .lose) == .reported)
        #expect(try await store.report(eventID: "partly", result: .win) == .reported)
        #expect(try await store.report(eventID: "empty", result: .lose) == .reported)
        let settler = Settler(redis: redis, keys: keys, batchSize: 3)
        _ = try await settler.settle(eventID: "won", result: .win)
        _ = try await settler.settle(eventID: "lost", result: .lose)
        _ = try await settler.settle(eventID: "empty", result: .lose)
        // Stopped after its first batch: the batch queued behind it may have been applied too.
        await #expect(throws: Settler.Interruption.self) {
            try await settler.settle(eventID: "partly", result: .win) { throw Settler.Interruption.stopped }
        }
        let partlyAt = Int(try await redis.hget(keys.event("partly"), "settle_pos") ?? "0") ?? 0
        #expect(partlyAt > 0 && partlyAt < 12)

        // Money: two users, deposits, and bets with money won, lost and pending.
        let accounts = AccountStore(redis: redis, keys: keys)
        var users: [Int] = []
        var firstAccounts: [Int] = []
        for login in ["alice", "bob"] {
            guard case .created(let user, let account, _) = try await accounts.register(login: login, passwordHash: "x", active: true)
            else {
                throw TestSupportError("\(login) not registered")
            }
            users.append(user.id)
            firstAccounts.append(account.id)
        }
        let secondAccount = 900
        for (payment, user, account, cents) in [
            ("p-1", 0, firstAccounts[0], Int64(10_000)), ("p-2", 1, firstAccounts[1], 5_000), ("p-3", 0, secondAccount, 2_000),
        ] {
            guard
                case .credited = try await accounts.deposit(
                    transactionID: payment, userID: users[user], accountID: account, amount: Money(cents: cents))
            else { throw TestSupportError("\(payment) not credited") }
        }
        let catalogue = CatalogueStore(redis: redis, keys: keys)
        for (event, odds) in [("cat-win", Int64(185)), ("cat-lose", 200), ("cat-open", 150)] {
            let entry = CatalogueEvent(
                id: event, title: event, homeTeam: "A", awayTeam: "B", startsAt: 4_000_000_000_000, odds: Odds(hundredths: odds),
                isOpen: true)
            #expect(try await catalogue.create(entry) == .created(entry))
        }
        for (event, user, account, cents) in [
            ("cat-win", 0, firstAccounts[0], Int64(1000)), ("cat-win", 1, firstAccounts[1], 300), ("cat-win", 0, firstAccounts[0], 555),
            ("cat-lose", 0, secondAccount, 400), ("cat-open", 1, firstAccounts[1], 100),
        ] {
            guard
                case .placed(let bet) = try await store.place(
                    eventID: event, amount: Money(cents: cents), userID: users[user], accountID: account)
            else { throw TestSupportError("bet with money on \(event) not placed") }
            ids[event, default: []].append(bet.id)
        }
        #expect(try await store.report(eventID: "cat-win", result: .win) == .reported)
        #expect(try await store.report(eventID: "cat-lose", result: .lose) == .reported)
        let report = try await settler.settle(eventID: "cat-win", result: .win)
        #expect(report.paidOut == Money(cents: 1850 + 555 + 1026))
        _ = try await settler.settle(eventID: "cat-lose", result: .lose)
        #expect(try await CreditOutbox(redis: redis, keys: keys).drain() == 3)
        return Fixture(
            redis: redis, ids: ids, partlyAt: partlyAt, users: users, accounts: firstAccounts, secondAccount: secondAccount)
    }

    static let totalBets = 39
    static let totalEvents = 8

    static func check(_ redis: RedisClient, pageSize: Int = 4) async throws -> InvariantChecker.Report {
        // A small page size makes the small fixture span several pages of every scan.
        try await InvariantChecker(redis: redis, keys: keys, pageSize: pageSize).check()
    }

    @Test func aStoreMadeByTheProductIsClean() async throws {
        try await withRedis { (_, redis) async throws in
            _ = try await Self.fixture(redis)
            for pageSize in [1, 4, 1000] {
                let report = try await Self.check(redis, pageSize: pageSize)
                #expect(report.isClean, "\(report.violations)")
                #expect(report.bets == Self.totalBets)
                #expect(report.events == Self.totalEvents)
                #expect(report.indexedBets == Self.totalBets)
                #expect(report.users == 2 && report.accounts == 3)
                // 170.00 deposited; 14.55 + 3.00 + 4.00 + 1.00 staked; 18.50 + 10.26 + 5.55 paid out.
                #expect(report.money.deposits == Money(cents: 17_000))
                #expect(report.money.stakesHeld == Money(cents: 100))
                #expect(report.money.houseResult == Money(cents: 2255 - 3431))
                #expect(report.money.balances == Money(cents: 17_000 - 2355 + 3431))
            }
        }
    }

    /// One kind of damage each, and the only kinds of violation it may cause.
    enum Corruption: String, CaseIterable, Sendable {
        case zeroAmount, unknownStatus, pendingWithSettledAt, settledWithoutSettledAt, missingCreatedAt, missingEventID
        case betNotIndexed, indexWithoutHash, listEntryWithoutHash, betListedTwice, betMissingFromItsList, betInAnotherEventsList
        case betsCountOff, stakedOff, wonCountOff, settledAgainstTheResult, settledPastSettlePosition, pendingBeforeSettlePosition
        case betSettledWithoutResult, settlePositionWithoutResult, settledAtWhileIncomplete, unknownResult, settlePositionPastTheEnd
        case betKeyOfWrongType, eventListWithoutEventHash
        case walletBetAmongAnonymousBets, walletBetMissingFromItsUsersList, listEntryWithoutItsOwner, malformedListEntry
        case balanceOff, payoutCreditedTwice, stakeForNoBet, paymentRecordWithoutDeposit, depositWithoutPaymentRecord, paidOutOff
        case payoutNotStakeTimesOdds, userMissingFromTheIndex, accountOwnedByAnotherUser, ledgerEntryForAnotherUsersAccount
        case walletBetsOnAnEventOutOfTheCatalogue, unsettledEventMissingFromTheIndex, settledEventInTheIndex, unknownEventInTheIndex
        case malformedHold, releaseOfNoStake, outboxEntryThatIsNoCredit, creditOwedForALostBet

        var expected: Set<InvariantChecker.Violation.Kind> {
            switch self {
            case .zeroAmount, .unknownStatus, .pendingWithSettledAt, .settledWithoutSettledAt, .missingCreatedAt: [.invalidBet]
            case .missingEventID: [.invalidBet]
            case .betNotIndexed: [.betNotIndexed]
            case .indexWithoutHash, .listEntryWithoutHash: [.missingBet]
            case .betListedTwice: [.betListedTwice]
            case .betMissingFromItsList: [.betNotListed]
            case .betInAnotherEventsList: [.betInForeignList]
            case .betsCountOff, .stakedOff, .wonCountOff: [.countMismatch]
            case .settledAgainstTheResult, .settledPastSettlePosition, .pendingBeforeSettlePosition: [.settlementMismatch]
            case .betSettledWithoutResult, .settlePositionWithoutResult: [.settledWithoutResult]
            case .settledAtWhileIncomplete: [.settledIncomplete, .unsettledIndexMismatch]
            case .unknownResult: [.invalidEvent, .unsettledIndexMismatch]
            case .settlePositionPastTheEnd: [.invalidEvent, .settledIncomplete]
            case .betKeyOfWrongType: [.wrongType]
            case .eventListWithoutEventHash: [.countMismatch]
            case .walletBetAmongAnonymousBets: [.betInWrongIndex, .betIndexedTwice]
            case .walletBetMissingFromItsUsersList: [.betNotIndexed]
            case .listEntryWithoutItsOwner: [.ownerMismatch]
            case .malformedListEntry: [.invalidListEntry]
            case .balanceOff: [.balanceMismatch, .moneyNotConserved]
            case .payoutCreditedTwice: [.payoutMismatch]
            case .stakeForNoBet: [.stakeMismatch, .moneyNotConserved]
            case .paymentRecordWithoutDeposit, .depositWithoutPaymentRecord: [.paymentMismatch]
            case .paidOutOff: [.countMismatch]
            case .payoutNotStakeTimesOdds: [.invalidBet, .payoutMismatch, .countMismatch]
            case .userMissingFromTheIndex: [.invalidUser]
            case .accountOwnedByAnotherUser: [.invalidAccount]
            case .ledgerEntryForAnotherUsersAccount: [.ledgerMismatch]
            case .walletBetsOnAnEventOutOfTheCatalogue: [.moneyOffCatalogue]
            case .unsettledEventMissingFromTheIndex, .settledEventInTheIndex, .unknownEventInTheIndex: [.unsettledIndexMismatch]
            case .malformedHold: [.holdMismatch]
            case .releaseOfNoStake: [.stakeMismatch, .moneyNotConserved]
            case .outboxEntryThatIsNoCredit, .creditOwedForALostBet: [.creditMismatch]
            }
        }

        /// Damages the fixture with raw commands, keeping everything else consistent.
        func apply(to fixture: Fixture) async throws {
            let f = fixture
            switch self {
            case .zeroAmount:
                _ = try await f.redis.hset(f.bet("open"), ["amount": "0"])
                try await f.run("HINCRBY", f.event("open"), "staked", "-100")
            case .unknownStatus:
                _ = try await f.redis.hset(f.bet("open"), ["status": "maybe"])
            case .pendingWithSettledAt:
                _ = try await f.redis.hset(f.bet("open"), ["settled_at": "1700000000000"])
            case .settledWithoutSettledAt:
                _ = try await f.redis.hdel(f.bet("won", 3), ["settled_at"])
            case .missingCreatedAt:
                _ = try await f.redis.hdel(f.bet("lost"), ["created_at"])
            case .missingEventID:
                // No owner: it still sits in its list, so it is checked there.
                _ = try await f.redis.hdel(f.bet("open", 2), ["event_id"])
            case .betNotIndexed:
                try await f.run("LREM", InvariantCheckerTests.keys.allBets(shard: 0), "1", f.id("partly", 11).description)
            case .indexWithoutHash:
                try await f.run("RPUSH", InvariantCheckerTests.keys.allBets(shard: 0), "open~0000000000ZZ")
            case .listEntryWithoutHash:
                try await f.run("RPUSH", f.list("open"), "0000000000ZZ")
                try await f.run("HINCRBY", f.event("open"), "bets", "1")
            case .betListedTwice:
                try await f.run("RPUSH", f.list("open"), f.id("open", 1).serial)
                try await f.run("HINCRBY", f.event("open"), "bets", "1")
            case .betMissingFromItsList:
                try await f.run("LREM", f.list("open"), "1", f.id("open", 4).serial)
                try await f.run("HINCRBY", f.event("open"), "bets", "-1")
                try await f.run("HINCRBY", f.event("open"), "staked", "-104")
            case .betInAnotherEventsList:
                // Stored under the event it is listed in, but saying it is another's.
                _ = try await f.redis.hset(f.bet("open", 1), ["event_id": "won"])
            case .betsCountOff:
                try await f.run("HINCRBY", f.event("lost"), "bets", "1")
            case .stakedOff:
                try await f.run("HINCRBY", f.event("won"), "staked", "1")
            case .wonCountOff:
                try await f.run("HINCRBY", f.event("won"), "won", "-1")
            case .settledAgainstTheResult:
                _ = try await f.redis.hset(f.bet("won", 5), ["status": "lost"])
                try await f.run("HINCRBY", f.event("won"), "won", "-1")
                try await f.run("HINCRBY", f.event("won"), "lost", "1")
            case .settledPastSettlePosition:
                _ = try await f.redis.hset(f.bet("partly", f.partlyAt), ["status": "won", "settled_at": "1700000000000"])
                try await f.run("HINCRBY", f.event("partly"), "won", "1")
            case .pendingBeforeSettlePosition:
                _ = try await f.redis.hset(f.bet("partly", 0), ["status": "pending"]);
                _ = try await f.redis.hdel(f.bet("partly", 0), ["settled_at"])
                try await f.run("HINCRBY", f.event("partly"), "won", "-1")
            case .betSettledWithoutResult:
                _ = try await f.redis.hset(f.bet("open", 3), ["status": "won", "settled_at": "1700000000000"])
                try await f.run("HINCRBY", f.event("open"), "won", "1")
            case .settlePositionWithoutResult:
                try await f.run("HSET", f.event("open"), "settle_pos", "2")
            case .settledAtWhileIncomplete:
                try await f.run("HSET", f.event("partly"), "settled_at", "1700000000000")
            case .unknownResult:
                try await f.run("HSET", f.event("open"), "result", "DRAW", "reported_at", "1700000000000")
            case .settlePositionPastTheEnd:
                try await f.run("HSET", f.event("won"), "settle_pos", "99")
            case .betKeyOfWrongType:
                try await f.run("SET", InvariantCheckerTests.keys.bet(BetID(eventID: "open", serial: "0000000000ZZ")), "not a bet")
            case .eventListWithoutEventHash:
                try await f.run("DEL", f.event("open"))
            case .walletBetAmongAnonymousBets:
                try await f.run("RPUSH", InvariantCheckerTests.keys.allBets(shard: 0), f.id("cat-win").description)
            case .walletBetMissingFromItsUsersList:
                try await f.run("LREM", f.userBets(1), "1", f.id("cat-open").description)
            case .listEntryWithoutItsOwner:
                try await f.run("LSET", f.list("cat-lose"), "0", f.id("cat-lose").serial)
            case .malformedListEntry:
                try await f.run("RPUSH", f.list("open"), "not:an:entry")
                try await f.run("HINCRBY", f.event("open"), "bets", "1")
            case .balanceOff:
                try await f.run("HINCRBY", f.accountsKey(1), String(f.accounts[1]), "1")
            case .payoutCreditedTwice:
                // A second payout for the first won bet, with the balance raised to match.
                let balance = try await f.run("HINCRBY", f.accountsKey(0), String(f.accounts[0]), "1850").int(for: "HINCRBY")
                try await f.run(
                    "XADD", f.ledger(0), "*", "type", "payout", "account_id", String(f.accounts[0]), "amount", "1850", "balance",
                    String(balance), "bet_id", f.id("cat-win").description)
            case .malformedHold:
                try await f.run("HSET", InvariantCheckerTests.keys.holds(f.users[0]), "cat-open~0000000000ZZ", "bet:1:oops")
            case .releaseOfNoStake:
                // Money given back for a stake never taken, the balance raised to match.
                let balance = try await f.run("HINCRBY", f.accountsKey(1), String(f.accounts[1]), "100").int(for: "HINCRBY")
                try await f.run(
                    "XADD", f.ledger(1), "*", "type", "release", "account_id", String(f.accounts[1]), "amount", "100", "balance",
                    String(balance), "bet_id", "cat-open~0000000000ZZ")
            case .outboxEntryThatIsNoCredit:
                try await f.run("XADD", InvariantCheckerTests.keys.creditOutbox(shard: 0), "*", "type", "bonus", "amount", "1")
            case .creditOwedForALostBet:
                try await f.run(
                    "XADD", InvariantCheckerTests.keys.creditOutbox(shard: 0), "*", "type", "payout", "user_id", String(f.users[0]),
                    "account_id", String(f.secondAccount), "amount", "740", "bet_id", f.id("cat-lose").description)
            case .stakeForNoBet:
                let balance = try await f.run("HINCRBY", f.accountsKey(1), String(f.accounts[1]), "-100").int(for: "HINCRBY")
                try await f.run(
                    "XADD", f.ledger(1), "*", "type", "stake", "account_id", String(f.accounts[1]), "amount", "-100", "balance",
                    String(balance), "bet_id", "cat-open~0000000000ZZ")
            case .paymentRecordWithoutDeposit:
                try await f.run(
                    "HSET", InvariantCheckerTests.keys.payment(userID: f.users[0], transactionID: "p-9"), "user_id", String(f.users[0]),
                    "account_id", String(f.accounts[0]),
                    "amount", "1", "entry", "1-0")
            case .depositWithoutPaymentRecord:
                try await f.run("DEL", InvariantCheckerTests.keys.payment(userID: f.users[1], transactionID: "p-2"))
            case .paidOutOff:
                try await f.run("HINCRBY", f.event("cat-win"), "paid", "1")
            case .payoutNotStakeTimesOdds:
                _ = try await f.redis.hset(f.bet("cat-win", 1), ["payout": "301"])
            case .userMissingFromTheIndex:
                try await f.run("ZREM", InvariantCheckerTests.keys.users, String(f.users[1]))
            case .accountOwnedByAnotherUser:
                try await f.run("HSET", InvariantCheckerTests.keys.accountOwners, String(f.secondAccount), String(f.users[1]))
            case .ledgerEntryForAnotherUsersAccount:
                try await f.run(
                    "XADD", f.ledger(0), "*", "type", "deposit", "account_id", String(f.accounts[1]), "amount", "1", "balance", "1",
                    "transaction_id", "p-8")
            case .walletBetsOnAnEventOutOfTheCatalogue:
                try await f.run("HDEL", f.event("cat-open"), "catalogue")
            case .unsettledEventMissingFromTheIndex:
                try await f.run("ZREM", InvariantCheckerTests.keys.unsettledEvents(shard: 0), "partly")
            case .settledEventInTheIndex:
                try await f.run("ZADD", InvariantCheckerTests.keys.unsettledEvents(shard: 0), "1", "won")
            case .unknownEventInTheIndex:
                try await f.run("ZADD", InvariantCheckerTests.keys.unsettledEvents(shard: 0), "1", "ghost")
            }
        }
    }

    @Test(arguments: Corruption.allCases)
    func everyKindOfDamageIsReported(_ corruption: Corruption) async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await Self.fixture(redis)
            #expect(try await Self.check(redis).isClean)
            try await corruption.apply(to: fixture)
            let report = try await Self.check(redis)
            #expect(!report.isClean, "\(corruption) went unnoticed")
            #expect(Set(report.violations.map(\.kind)) == corruption.expected, "\(report.violations)")
            #expect(report.violations.count == report.violationCount)
        }
    }

    @Test func aDamagedBetIsReportedOnceWithItsKeyAndEveryProblem() async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await Self.fixture(redis)
            _ = try await fixture.redis.hset(fixture.bet("open"), ["amount": "-5", "status": "won"])
            let report = try await Self.check(redis)
            let lines = report.violations.filter { $0.key == fixture.bet("open") }.map(\.description)
            #expect(lines.contains { $0.contains("amount \"-5\"") }, "\(lines)")
            #expect(lines.contains { $0.contains("settled_at is missing") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("settled-without-result ") }, "\(lines)")
        }
    }

    @Test func manyViolationsAreCountedButOnlySomeKept() async throws {
        try await withRedis { (_, redis) async throws in
            let fixture = try await Self.fixture(redis)
            for index in 0..<7 { _ = try await fixture.redis.hdel(fixture.bet("lost", index), ["created_at"]) }
            let report = try await InvariantChecker(redis: redis, keys: Self.keys, pageSize: 4, maximumKeptViolations: 3).check()
            #expect(report.violationCount == 7)
            #expect(report.count(.invalidBet) == 7)
            #expect(report.violations.count == 3)
        }
    }

    @Test func theCheckCommandExitsZeroWhenCleanOneWhenBrokenTwoWhenRedisIsAway() async throws {
        try await withRedis { (server, redis) async throws in
            let fixture = try await Self.fixture(redis)
            let settings = ["KEY_PREFIX": Self.keys.prefix]
            let clean = try await BetMakerProcesses.runCheck(redis: server, settings: settings)
            #expect(clean.status == 0, "\(clean.output)")
            #expect(clean.output.contains("0 violation(s); \(Self.totalBets) bets, \(Self.totalEvents) events"), "\(clean.output)")

            try await fixture.run("HINCRBY", fixture.event("won"), "won", "-1")
            try await fixture.run("LREM", Self.keys.allBets(shard: 0), "1", fixture.id("open").description)
            let broken = try await BetMakerProcesses.runCheck(redis: server, settings: settings)
            #expect(broken.status == 1, "\(broken.output)")
            #expect(
                broken.output.contains("count-mismatch \(fixture.event("won")): won is 9 but 10 of its bets are won"), "\(broken.output)")
            #expect(broken.output.contains("bet-not-indexed \(fixture.bet("open"))"), "\(broken.output)")
            #expect(broken.output.contains("2 violation(s)"), "\(broken.output)")
        }
        try await withRedisServer { server in
            await server.kill()
            let away = try await BetMakerProcesses.runCheck(redis: server)
            #expect(away.status == 2, "\(away.output)")
        }
    }
}
