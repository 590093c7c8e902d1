import RedisClient

/// Scans Redis and reports every broken invariant of the bet-maker layout (docs/ARCHITECTURE.md,
/// "Proof under faults"). `betmaker-worker check` runs it; the tests and the fault suite end with it.
///
/// Passes, each in bounded pages with a few commands per page, so a million bets take seconds and
/// memory stays at a few dozen bytes per bet (`BetID`s, whose parts fit Swift's inline strings for
/// event ids up to 15 bytes), and a few dozen more per bet with money:
///
/// 1. every event (`SCAN` for the event hashes and lists): its fields, and its list read in pages,
///    each page's bets read with one pipelined `HMGET` each; list entries must agree with their bets'
///    owners; counts, total staked, total paid out and settlement progress are compared with the bets;
///    an event with bets with money must be in the catalogue; an event with a result and without
///    `settled_at` must be in the index of unsettled events unless parked, and nothing else may be;
/// 2. every bet hash (`SCAN` of `<prefix>{sh:*}:{ev:*}:bet:*`) that no event list holds;
/// 3. the indexes: the list of anonymous bets and each user's list of bets with money, read in
///    pages; every bet must be in exactly the index its owner says, once;
/// 4. every user (`SCAN` for user keys, and the users index): the user hash, the accounts, and the
///    ledger read from the start with a running balance per account: every entry's `balance` is the
///    running sum, every account's balance is the sum of its entries and never went below zero,
///    every bet with money has exactly one stake entry, a won one exactly one payout of its payout
///    (an entry, or a credit its outbox still owes; others none), a void one exactly one refund of its
///    stake (likewise), every deposit has its payment record and the other way round; a stake whose
///    bet or trade does not exist is a pending hold's or is given back by a `release` entry, and no
///    hold is older than the reconciler lets one get (`InvariantScan+Holds.swift`);
/// 5. money is conserved: deposits = balances + pending holds (of bets and trades not placed) + stakes
///    of pending bets and open trades + credits owed in the outboxes + the house's result (stakes of
///    settled bets and closed trades minus payouts and refunds, applied or owed).
///
/// Trades (`InvariantScan+Trades.swift`) are checked between passes 3 and 4: every trade hash, its
/// sets (due, open by direction, the user's list) against its status, and in pass 4 its stake and
/// payout entries.
///
/// Each pass is a file of its own (`InvariantScan+Events.swift`, `+UnlistedBets`, `+Indexes`,
/// `+Ledgers`, `+Payments`), working on the state of one run (`InvariantScan.swift`).
///
/// The scan is not a snapshot: run it on a store nobody writes to (after the test, after the load),
/// or expect reports about bets placed or settled while it ran.
public struct InvariantChecker: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// Ids read per page (and bets fetched per pipeline).
    public let pageSize: Int
    /// Violations kept in the report; every one is still counted and passed to `onViolation`.
    public let maximumKeptViolations: Int
    /// A pending hold older than this is reported: the reconciler should have finished it (nil: not checked).
    public let maximumHoldAge: Duration?
    /// Credits outboxes besides settlement's shards (the symbols').
    public let extraCreditOutboxes: [String]

    public init(
        redis: RedisClient, keys: RedisKeys, pageSize: Int = 1000, maximumKeptViolations: Int = 10_000, maximumHoldAge: Duration? = nil,
        extraCreditOutboxes: [String] = []
    ) {
        precondition(pageSize > 0, "page size must be positive")
        self.redis = redis
        self.keys = keys
        self.pageSize = pageSize
        self.maximumKeptViolations = maximumKeptViolations
        self.maximumHoldAge = maximumHoldAge
        self.extraCreditOutboxes = extraCreditOutboxes
    }

    /// Scans everything; `onViolation` sees each violation as it is found (the command prints them).
    public func check(onViolation: @escaping @Sendable (Violation) -> Void = { _ in }) async throws -> Report {
        var scan = Scan(checker: self, onViolation: onViolation)
        try await scan.readUnsettledIndex()
        try await scan.checkEvents()
        scan.checkUnsettledIndexMembers()
        try await scan.checkUnlistedBets()
        let userIDs = try await scan.findUsers()
        for shard in keys.allShards { try await scan.checkIndex(keys.allBets(shard: shard), owner: nil) }
        for userID in userIDs { try await scan.checkIndex(keys.userBets(userID), owner: userID) }
        scan.checkEveryBetIndexed()
        try await scan.checkTrades(userIDs: userIDs)
        for userID in userIDs {
            try await scan.readHolds(userID)
            try await scan.checkUser(userID)
        }
        scan.checkLooseStakesReleased()
        try await scan.checkUnconfirmedStakes()
        try await scan.checkCreditOutboxes()
        try await scan.checkPayments()
        scan.checkWalletBetsInLedgers()
        scan.checkTradesInLedgers()
        scan.checkConservation()
        scan.report.bets = scan.listed.count + scan.unlisted.count
        scan.report.events = scan.events.count
        scan.report.users = userIDs.count
        return scan.report
    }

    static let eventFields = [
        "result", "reported_at", "bets", "staked", "won", "lost", "settle_pos", "settled_at", "paid", "catalogue", "parked", "void",
        "refunded",
    ]
}
