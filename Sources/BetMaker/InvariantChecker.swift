import RedisClient

/// Scans Redis and reports every broken invariant of the bet-maker layout (docs/ARCHITECTURE.md,
/// "Proof under faults"). `betmaker-worker check` runs it; the tests and the fault suite end with it.
///
/// Passes, each in bounded pages with a few commands per page, so a million bets take seconds and
/// memory stays at a few bytes per bet (ids are kept as their 60-bit numbers) plus a few dozen per
/// bet with money:
///
/// 1. every event (`SCAN` for the event hashes and lists): its fields, and its list read in pages,
///    each page's bets read with one `read_bets` call; list entries must agree with their bets'
///    owners; counts, total staked, total paid out and settlement progress are compared with the bets;
///    an event with bets with money must be in the catalogue; an event with a result and without
///    `settled_at` must be in the index of unsettled events unless parked, and nothing else may be;
/// 2. every bet hash (`SCAN`) that no event list holds;
/// 3. the indexes: the list of anonymous bets and each user's list of bets with money, read in
///    pages; every bet must be in exactly the index its owner says, once;
/// 4. every user (`SCAN` for user keys, and the users index): the user hash, the accounts, and the
///    ledger read from the start with a running balance per account: every entry's `balance` is the
///    running sum, every account's balance is the sum of its entries and never went below zero,
///    every bet with money has exactly one stake entry, a won one exactly one payout entry of its
///    payout (others none), every deposit has its payment record and the other way round;
/// 5. money is conserved: deposits = balances + stakes held by pending bets + the house's result
///    (stakes of settled bets minus payouts).
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

    public init(redis: RedisClient, keys: RedisKeys, pageSize: Int = 1000, maximumKeptViolations: Int = 10_000) {
        precondition(pageSize > 0, "page size must be positive")
        self.redis = redis
        self.keys = keys
        self.pageSize = pageSize
        self.maximumKeptViolations = maximumKeptViolations
    }

    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, CaseIterable {
            /// A bet hash with a missing or malformed field, or `settled_at` not matching its status.
            case invalidBet = "invalid-bet"
            /// A bet hash that is not in its index (the anonymous bets, or its user's bets).
            case betNotIndexed = "bet-not-indexed"
            /// A bet in an index it does not belong in (a bet with money among the anonymous ones,
            /// or in another user's list).
            case betInWrongIndex = "bet-in-wrong-index"
            /// A bet listed more than once in the indexes.
            case betIndexedTwice = "bet-indexed-twice"
            /// A bet hash that is not in its event's list.
            case betNotListed = "bet-not-listed"
            /// A bet id listed more than once in its event's list.
            case betListedTwice = "bet-listed-twice"
            /// A bet id in the list of an event that is not the bet's.
            case betInForeignList = "bet-in-foreign-list"
            /// An event list entry that is neither `<bet>` nor `<bet>:<user>:<account>`.
            case invalidListEntry = "invalid-list-entry"
            /// An event list entry naming another owner than its bet has.
            case ownerMismatch = "owner-mismatch"
            /// An id in an event list or in an index with no bet hash behind it.
            case missingBet = "missing-bet"
            /// A key of the layout holding another type than the layout says.
            case wrongType = "wrong-type"
            /// An event field that is malformed or out of range (result, settle_pos, ...).
            case invalidEvent = "invalid-event"
            /// An event's bets/staked/won/lost/paid disagreeing with its bets.
            case countMismatch = "count-mismatch"
            /// A bet's status disagreeing with the event's result and settle_pos.
            case settlementMismatch = "settlement-mismatch"
            /// A bet settled, or settlement begun, on an event without a result.
            case settledWithoutResult = "settled-without-result"
            /// An event marked settled whose list is not settled to the end.
            case settledIncomplete = "settled-incomplete"
            /// A user hash with a missing or malformed field, or out of step with the user indexes.
            case invalidUser = "invalid-user"
            /// An account that is malformed, negative, or whose owner the owners index disagrees on.
            case invalidAccount = "invalid-account"
            /// A ledger entry that is malformed, names an account the user lacks, or whose balance is
            /// not the running sum of the account's entries (or went below zero).
            case ledgerMismatch = "ledger-mismatch"
            /// An account balance that is not the sum of its ledger entries.
            case balanceMismatch = "balance-mismatch"
            /// A bet with money without exactly one stake entry of its amount, or a stake entry
            /// without its bet.
            case stakeMismatch = "stake-mismatch"
            /// A won bet with money without exactly one payout entry of its payout, or a payout
            /// entry for a bet that is not won.
            case payoutMismatch = "payout-mismatch"
            /// A deposit entry without its payment record, a payment record without its entry, or a
            /// transaction credited twice.
            case paymentMismatch = "payment-mismatch"
            /// Deposits are not balances + stakes held + the house's result.
            case moneyNotConserved = "money-not-conserved"
            /// An event with bets with money that is not in the catalogue: its result could be
            /// reported anonymously (bets with money are only taken on catalogue events, and a
            /// catalogue event with bets cannot be deleted).
            case moneyOffCatalogue = "money-off-catalogue"
            /// An event with a result, not settled and not parked, missing from the index of unsettled
            /// events (the worker would never queue it again), or an index member that is not such an event.
            case unsettledIndexMismatch = "unsettled-index-mismatch"
        }

        public let kind: Kind
        /// The key the violation is about.
        public let key: String
        public let detail: String

        public init(_ kind: Kind, _ key: String, _ detail: String) {
            self.kind = kind
            self.key = key
            self.detail = detail
        }

        public var description: String { "\(kind.rawValue) \(key): \(detail)" }
    }

    public struct Report: Sendable {
        /// The first `maximumKeptViolations` violations, in the order found.
        public fileprivate(set) var violations: [Violation] = []
        /// Every violation found, kept or not.
        public fileprivate(set) var violationCount = 0
        public fileprivate(set) var countsByKind: [Violation.Kind: Int] = [:]
        /// Bet hashes checked.
        public fileprivate(set) var bets = 0
        /// Events checked (event hashes and lists).
        public fileprivate(set) var events = 0
        /// Ids in the indexes (anonymous bets and users' bets).
        public fileprivate(set) var indexedBets = 0
        /// Users and accounts checked.
        public fileprivate(set) var users = 0
        public fileprivate(set) var accounts = 0
        /// The money, as the ledgers and the bets tell it.
        public fileprivate(set) var money = Money.Totals()

        public var isClean: Bool { violationCount == 0 }

        public func count(_ kind: Violation.Kind) -> Int { countsByKind[kind] ?? 0 }

        public var summary: String {
            "\(violationCount) violation(s); \(bets) bets, \(events) events, \(indexedBets) ids in the indexes, \(users) users, "
                + "\(accounts) accounts checked; deposits \(money.deposits) = balances \(money.balances) + stakes held "
                + "\(money.stakesHeld) + house result \(money.houseResult)"
        }
    }

    /// Scans everything; `onViolation` sees each violation as it is found (the command prints them).
    public func check(onViolation: @escaping @Sendable (Violation) -> Void = { _ in }) async throws -> Report {
        var scan = Scan(checker: self, onViolation: onViolation)
        try await scan.readUnsettledIndex()
        try await scan.checkEvents()
        scan.checkUnsettledIndexMembers()
        try await scan.checkUnlistedBets()
        let userIDs = try await scan.findUsers()
        try await scan.checkIndex(keys.allBets, owner: nil)
        for userID in userIDs { try await scan.checkIndex(keys.userBets(userID), owner: userID) }
        scan.checkEveryBetIndexed()
        for userID in userIDs { try await scan.checkUser(userID) }
        try await scan.checkPayments()
        scan.checkWalletBetsInLedgers()
        scan.checkConservation()
        scan.report.bets = scan.listed.count + scan.unlisted.count
        scan.report.events = scan.events.count
        scan.report.users = userIDs.count
        return scan.report
    }

    static let eventFields = [
        "result", "reported_at", "bets", "staked", "won", "lost", "settle_pos", "settled_at", "paid", "catalogue", "parked",
    ]

    /// A bet hash as read: the fields that parse, and what is wrong with it.
    struct BetRecord {
        var eventID: String?
        var amount: Int64?
        var status: BetStatus?
        /// The owner and terms of a bet with money.
        var wager: (userID: Int, accountID: Int, payout: Int64)?
        var problems: [String] = []

        /// nil when the hash has none of the fields (no hash).
        init?(_ fields: [String?]) {
            guard fields.contains(where: { $0 != nil }) else { return nil }
            eventID = fields[0]
            if let eventID {
                if !EventID.isValid(eventID) { problems.append("event_id \"\(eventID)\" is not a valid event id") }
            } else {
                problems.append("event_id is missing")
            }
            if let text = fields[1] {
                if let cents = Int64(text), cents > 0 {
                    amount = cents
                } else {
                    problems.append("amount \"\(text)\" is not a positive number of cents")
                }
            } else {
                problems.append("amount is missing")
            }
            if let text = fields[2] {
                status = BetStatus(rawValue: text)
                if status == nil { problems.append("status \"\(text)\" is not pending, won or lost") }
            } else {
                problems.append("status is missing")
            }
            if let text = fields[3] {
                if Int64(text) == nil { problems.append("created_at \"\(text)\" is not a time in milliseconds") }
            } else {
                problems.append("created_at is missing")
            }
            if let text = fields[4], Int64(text) == nil { problems.append("settled_at \"\(text)\" is not a time in milliseconds") }
            switch (status, fields[4]) {
            case (.pending, .some): problems.append("settled_at is set on a pending bet")
            case (.won, .none), (.lost, .none): problems.append("status is \(status!.rawValue) but settled_at is missing")
            default: break
            }
            // user_id, account_id, odds, payout: all four (a bet with money) or none.
            let walletFields = fields[5...8]
            if walletFields.contains(where: { $0 != nil }) {
                if let userID = fields[5].flatMap({ Int($0) }), let accountID = fields[6].flatMap({ Int($0) }),
                    let odds = fields[7].flatMap({ Int64($0) }), let payout = fields[8].flatMap({ Int64($0) }), userID > 0, accountID > 0
                {
                    wager = (userID, accountID, payout)
                    if !(Odds.minimum.hundredths...Odds.maximum.hundredths).contains(odds) {
                        problems.append("odds \(odds) are out of range")
                    }
                    if let amount, payout != amount * odds / 100 {
                        problems.append("payout \(payout) is not amount \(amount) x odds \(odds) / 100, rounded down")
                    }
                } else {
                    problems.append("user_id, account_id, odds and payout must all be set and valid, or none: \(Array(walletFields))")
                }
            }
        }
    }

    /// What the index and ledger checks need of a bet with money (amount and status are nil when its
    /// hash lacks them, which is reported on its own).
    struct WalletBet {
        let userID: Int
        let accountID: Int
        let amount: Int64?
        let status: BetStatus?
        let payout: Int64
        var stakes = 0
        var payouts = 0
    }

    /// The state of one run.
    private struct Scan {
        let checker: InvariantChecker
        let onViolation: @Sendable (Violation) -> Void
        var report = Report()
        /// Bets seen in their own event's list.
        var listed = BetIDSet()
        /// Bet hashes no list of their event holds.
        var unlisted = Set<String>()
        /// Bet keys that cannot be read as hashes: reported as such, and nothing else.
        var unreadable = Set<String>()
        /// Bets seen in an index.
        var indexed = BetIDSet()
        /// The bets with money seen, for the index and ledger checks: every other bet is anonymous.
        var walletBets = BetIDMap<WalletBet>()
        var events = Set<String>()
        /// The members of the index of unsettled events.
        var unsettledIndex = Set<String>()
        /// Deposit entries seen in the ledgers, by payment transaction id.
        var deposits: [String: (userID: Int, accountID: Int, amount: Int64, entryID: String)] = [:]

        var redis: RedisClient { checker.redis }
        var keys: RedisKeys { checker.keys }

        mutating func record(_ kind: Violation.Kind, _ key: String, _ detail: String) {
            let violation = Violation(kind, key, detail)
            report.violationCount += 1
            report.countsByKind[kind, default: 0] += 1
            if report.violations.count < checker.maximumKeptViolations { report.violations.append(violation) }
            onViolation(violation)
        }

        /// One page of `SCAN ... MATCH`: the next cursor ("0" at the end) and the keys found.
        func scanPage(_ cursor: String, matching pattern: String) async throws -> (cursor: String, keys: [String]) {
            let reply = try await redis.send(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", checker.pageSize)).array(for: "SCAN")
            guard reply.count == 2 else { throw RESPValue.array(reply).unexpected("SCAN") }
            return (try reply[0].string(for: "SCAN"), try reply[1].strings(for: "SCAN"))
        }

        /// Every key matching `pattern`.
        func scanAll(_ pattern: String) async throws -> [String] {
            var found: [String] = []
            var cursor = "0"
            repeat {
                let page = try await scanPage(cursor, matching: pattern)
                cursor = page.cursor
                found += page.keys
            } while cursor != "0"
            return found
        }

        /// The fields of these bets (`read_bets`, one call); a page with a key of another type is read
        /// bet by bet, to name it.
        func readBets(_ ids: [String]) async throws -> [Result<[String?], RedisError>] {
            let betKeys = ids.map(keys.bet)
            var fields: [Result<[String?], RedisError>] = []
            fields.reserveCapacity(ids.count)
            do {
                for row in try await redis.eval(Scripts.readBets, keys: betKeys).array(for: "read_bets") {
                    fields.append(.success(try row.optionalStrings(for: "read_bets")))
                }
            } catch let error as RedisError where error.serverCode != nil {
                fields.removeAll()
                let replies = try await redis.pipeline(betKeys.map { RedisCommand("HMGET", arguments: [$0] + BetStore.storedFields) })
                for reply in replies {
                    do {
                        fields.append(.success(try reply.get().optionalStrings(for: "HMGET")))
                    } catch {
                        fields.append(.failure(error))
                    }
                }
            }
            guard fields.count == ids.count else {
                throw RedisError.unexpectedReply(command: "read_bets", reply: "\(fields.count) bets for \(ids.count) ids")
            }
            return fields
        }

        /// Notes who owns a bet that was read, for the index and ledger passes.
        mutating func remember(_ id: String, _ bet: BetRecord) {
            if let wager = bet.wager {
                walletBets[id] = WalletBet(
                    userID: wager.userID, accountID: wager.accountID, amount: bet.amount, status: bet.status, payout: wager.payout)
            }
        }

        // MARK: Pass 1: events

        /// The index of unsettled events, read in pages (it holds only events waiting for settlement).
        mutating func readUnsettledIndex() async throws {
            var start = 0
            while true {
                let members: [String]
                do {
                    members = try await redis.send(
                        RedisCommand("ZRANGE", keys.unsettledEvents, start, start + checker.pageSize - 1)
                    ).strings(for: "ZRANGE")
                } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                    record(.wrongType, keys.unsettledEvents, "is not a sorted set")
                    return
                }
                unsettledIndex.formUnion(members)
                guard members.count == checker.pageSize else { return }
                start += members.count
            }
        }

        /// Index members that name no event the scan found.
        mutating func checkUnsettledIndexMembers() {
            for member in unsettledIndex.sorted() where !events.contains(member) {
                record(.unsettledIndexMismatch, keys.unsettledEvents, "holds \(member), which is no event")
            }
        }

        mutating func checkEvents() async throws {
            let opening = String(keys.event("").dropLast())  // "bm:{ev:"
            var pending: [String] = []
            for key in try await scanAll(opening + "*") {
                let rest = key.dropFirst(opening.count)
                if rest.hasSuffix("}:bets") {
                    pending.append(String(rest.dropLast(6)))
                } else if rest.hasSuffix("}") {
                    pending.append(String(rest.dropLast()))
                }
            }
            // Checked after the scan: checking adds nothing to the keyspace, but the scan stays short.
            for eventID in pending where events.insert(eventID).inserted {
                try await checkEvent(eventID)
            }
        }

        mutating func checkEvent(_ eventID: String) async throws {
            let eventKey = keys.event(eventID)
            let listKey = keys.eventBets(eventID)
            let head = try await redis.pipeline([
                RedisCommand("HMGET", arguments: [eventKey] + InvariantChecker.eventFields), RedisCommand("LLEN", listKey),
            ])
            let fields: [String?]
            let length: Int
            do {
                fields = try head[0].get().optionalStrings(for: "HMGET")
            } catch {
                record(.wrongType, eventKey, "cannot be read as the event hash: \(error)")
                return
            }
            do {
                length = try head[1].get().int(for: "LLEN")
            } catch {
                record(.wrongType, listKey, "cannot be read as the event's bet list: \(error)")
                return
            }
            var result: EventResult?
            if let text = fields[0] {
                result = EventResult(rawValue: text)
                if result == nil { record(.invalidEvent, eventKey, "result \"\(text)\" is not WIN or LOSE") }
            }
            switch (fields[0], fields[1]) {
            case (.some, .none): record(.invalidEvent, eventKey, "result is set but reported_at is missing")
            case (.none, .some): record(.invalidEvent, eventKey, "reported_at is set but there is no result")
            case (_, .some(let text)) where Int64(text) == nil: record(.invalidEvent, eventKey, "reported_at \"\(text)\" is not a time")
            default: break
            }
            func number(_ index: Int) -> Int64 {
                guard let text = fields[index] else { return 0 }
                guard let value = Int64(text), value >= 0 else {
                    record(.invalidEvent, eventKey, "\(InvariantChecker.eventFields[index]) \"\(text)\" is not a count")
                    return 0
                }
                return value
            }
            let bets = number(2)
            let staked = number(3)
            let won = number(4)
            let lost = number(5)
            let settlePosition = Int(number(6))
            let settledAt = fields[7]
            let paid = number(8)
            if let settledAt, Int64(settledAt) == nil { record(.invalidEvent, eventKey, "settled_at \"\(settledAt)\" is not a time") }
            if settlePosition > length {
                record(.invalidEvent, eventKey, "settle_pos \(settlePosition) is past the end of the list (\(length) bets)")
            }
            let waiting = fields[0] != nil && settledAt == nil && fields[10] == nil
            if waiting != unsettledIndex.contains(eventID) {
                record(
                    .unsettledIndexMismatch, eventKey,
                    waiting
                        ? "has a result and is neither settled nor parked, but is not in \(keys.unsettledEvents)"
                        : "is in \(keys.unsettledEvents) but \(fields[0] == nil ? "has no result" : settledAt != nil ? "is settled" : "is parked")"
                )
            }
            if fields[0] == nil {
                if settlePosition != 0 {
                    record(.settledWithoutResult, eventKey, "settle_pos is \(settlePosition) but the event has no result")
                }
                if settledAt != nil { record(.settledWithoutResult, eventKey, "settled_at is set but the event has no result") }
            }

            var counted = (staked: Int64(0), won: Int64(0), lost: Int64(0), pending: 0, paid: Int64(0), withMoney: 0)
            var start = 0
            while start < length {
                let entries = try await redis.lrange(listKey, start, start + checker.pageSize - 1)
                if entries.isEmpty { break }
                let parsed = entries.map { EventListEntry($0) }
                let read = try await readBets(parsed.map { $0?.betID ?? "" })
                for (offset, text) in entries.enumerated() {
                    let position = start + offset
                    guard let entry = parsed[offset] else {
                        record(.invalidListEntry, listKey, "position \(position) holds \"\(text)\", which names no bet")
                        continue
                    }
                    let id = entry.betID
                    let betKey = keys.bet(id)
                    let bet: BetRecord
                    do {
                        guard let found = BetRecord(try read[offset].get()) else {
                            record(.missingBet, listKey, "position \(position) names bet \(id), which has no hash")
                            continue
                        }
                        bet = found
                    } catch {
                        record(.wrongType, betKey, "cannot be read as a bet hash: \(error)")
                        continue
                    }
                    if let owner = bet.eventID, owner != eventID {
                        record(.betInForeignList, listKey, "position \(position) names bet \(id), which belongs to event \(owner)")
                        continue
                    }
                    guard listed.insert(id) else {
                        record(.betListedTwice, listKey, "bet \(id) is listed more than once (again at position \(position))")
                        continue
                    }
                    for problem in bet.problems { record(.invalidBet, betKey, problem) }
                    if entry.owner?.userID != bet.wager?.userID || entry.owner?.accountID != bet.wager?.accountID {
                        record(
                            .ownerMismatch, listKey,
                            "position \(position) holds \"\(text)\" but bet \(id) is \(bet.wager.map { "user \($0.userID)'s, account \($0.accountID)" } ?? "anonymous")"
                        )
                    }
                    remember(id, bet)
                    if bet.wager != nil { counted.withMoney += 1 }
                    counted.staked += bet.amount ?? 0
                    switch bet.status {
                    case .won:
                        counted.won += 1
                        counted.paid += bet.wager?.payout ?? 0
                    case .lost: counted.lost += 1
                    case .pending: counted.pending += 1
                    case nil: break
                    }
                    guard let status = bet.status else { continue }
                    guard fields[0] != nil else {
                        if status != .pending {
                            record(.settledWithoutResult, betKey, "is \(status.rawValue) but event \(eventID) has no result")
                        }
                        continue
                    }
                    if position < settlePosition {
                        if let result, status != result.settledStatus {
                            record(
                                .settlementMismatch, betKey,
                                "is \(status.rawValue) at position \(position), before settle_pos \(settlePosition) of an event with result \(result.rawValue)"
                            )
                        }
                    } else if status != .pending {
                        record(
                            .settlementMismatch, betKey,
                            "is \(status.rawValue) at position \(position), at or after settle_pos \(settlePosition)")
                    }
                }
                start += entries.count
            }

            if counted.withMoney > 0 && fields[9] == nil {
                record(.moneyOffCatalogue, eventKey, "has \(counted.withMoney) bet(s) with money but is not in the catalogue")
            }
            if bets != length { record(.countMismatch, eventKey, "bets is \(bets) but the list holds \(length)") }
            if staked != counted.staked {
                record(.countMismatch, eventKey, "staked is \(staked) cents but its bets sum to \(counted.staked)")
            }
            if won != counted.won { record(.countMismatch, eventKey, "won is \(won) but \(counted.won) of its bets are won") }
            if lost != counted.lost { record(.countMismatch, eventKey, "lost is \(lost) but \(counted.lost) of its bets are lost") }
            if paid != counted.paid {
                record(.countMismatch, eventKey, "paid is \(paid) cents but its won bets with money pay \(counted.paid)")
            }
            if settledAt != nil {
                if settlePosition != length {
                    record(
                        .settledIncomplete, eventKey, "settled_at is set but settle_pos \(settlePosition) is not the list length \(length)")
                }
                if counted.pending > 0 {
                    record(.settledIncomplete, eventKey, "settled_at is set but \(counted.pending) of its bets are pending")
                }
            }
        }

        // MARK: Pass 2: bet hashes no list holds

        mutating func checkUnlistedBets() async throws {
            let prefix = keys.bet("")
            var page: [String] = []
            var cursor = "0"
            repeat {
                let found = try await scanPage(cursor, matching: prefix + "*")
                cursor = found.cursor
                // Only bets missing from the lists are read again; in a sound store that is none.
                for key in found.keys {
                    let id = String(key.dropFirst(prefix.count))
                    guard !listed.contains(id), unlisted.insert(id).inserted else { continue }
                    page.append(id)
                }
                if page.count >= checker.pageSize {
                    try await checkUnlisted(page)
                    page.removeAll(keepingCapacity: true)
                }
            } while cursor != "0"
            if !page.isEmpty { try await checkUnlisted(page) }
        }

        mutating func checkUnlisted(_ ids: [String]) async throws {
            let read = try await readBets(ids)
            for (offset, id) in ids.enumerated() {
                let betKey = keys.bet(id)
                let bet: BetRecord
                do {
                    guard let found = BetRecord(try read[offset].get()) else {
                        record(.invalidBet, betKey, "has none of the bet fields")
                        continue
                    }
                    bet = found
                } catch {
                    record(.wrongType, betKey, "cannot be read as a bet hash: \(error)")
                    unreadable.insert(id)
                    continue
                }
                for problem in bet.problems { record(.invalidBet, betKey, problem) }
                remember(id, bet)
                if let eventID = bet.eventID {
                    record(.betNotListed, betKey, "is not in the list of its event \(eventID) (\(keys.eventBets(eventID)))")
                } else {
                    record(.betNotListed, betKey, "is in no event's list")
                }
            }
        }

        // MARK: Pass 3: the indexes

        /// Users with any key, and those in the users index.
        mutating func findUsers() async throws -> [Int] {
            let opening = String(keys.user(0).dropLast(2))  // "bm:{u:"
            var ids = Set<Int>()
            for key in try await scanAll(opening + "*") {
                let rest = key.dropFirst(opening.count)
                guard let close = rest.firstIndex(of: "}"), let id = Int(rest[..<close]) else { continue }
                ids.insert(id)
            }
            do {
                let indexed = try await redis.zrangeByScore(keys.users, min: .negativeInfinity, max: .positiveInfinity)
                for (member, score) in indexed {
                    guard let id = Int(member), Double(id) == score else {
                        record(.invalidUser, keys.users, "holds \(member) with score \(score), not a user id scored by itself")
                        continue
                    }
                    ids.insert(id)
                }
            } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                record(.wrongType, keys.users, "is not a sorted set")
            }
            return ids.sorted()
        }

        /// An index list: the anonymous bets (`owner` nil) or one user's bets.
        mutating func checkIndex(_ index: String, owner: Int?) async throws {
            var start = 0
            while true {
                let ids: [String]
                do {
                    ids = try await redis.lrange(index, start, start + checker.pageSize - 1)
                } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                    record(.wrongType, index, "is not a list")
                    return
                }
                if ids.isEmpty { break }
                report.indexedBets += ids.count
                for (offset, id) in ids.enumerated() {
                    guard listed.contains(id) || unlisted.contains(id) else {
                        record(.missingBet, index, "position \(start + offset) holds bet \(id), which has no hash")
                        continue
                    }
                    guard indexed.insert(id) else {
                        record(.betIndexedTwice, index, "bet \(id) is indexed more than once (again at position \(start + offset))")
                        continue
                    }
                    let betOwner = walletBets[id]?.userID
                    if betOwner != owner {
                        record(
                            .betInWrongIndex, index,
                            "holds bet \(id), which is \(betOwner.map { "user \($0)'s" } ?? "anonymous") (belongs in \(betOwner.map(keys.userBets) ?? keys.allBets))"
                        )
                    }
                }
                start += ids.count
            }
        }

        mutating func checkEveryBetIndexed() {
            for id in listed.ids + unlisted.sorted() where !indexed.contains(id) && !unreadable.contains(id) {
                let owner = walletBets[id]?.userID
                record(.betNotIndexed, keys.bet(id), "is not in \(owner.map(keys.userBets) ?? keys.allBets)")
            }
        }

        // MARK: Pass 4: users, accounts and ledgers

        mutating func checkUser(_ userID: Int) async throws {
            let userKey = keys.user(userID)
            let replies = try await redis.pipeline([
                RedisCommand("HMGET", arguments: [userKey] + User.storedFields + ["password"]),
                RedisCommand("HGETALL", keys.accounts(userID)),
                RedisCommand("ZSCORE", keys.users, String(userID)),
            ])
            let fields: [String?]
            do {
                fields = try replies[0].get().optionalStrings(for: "HMGET")
            } catch {
                record(.wrongType, userKey, "cannot be read as a user hash: \(error)")
                return
            }
            if let user = User(id: userID, fields: Array(fields.prefix(User.storedFields.count))) {
                if fields.last == nil { record(.invalidUser, userKey, "has no password hash") }
                if (user.status == .pending) != (user.activatedAt == nil) {
                    record(
                        .invalidUser, userKey,
                        "is \(user.status.rawValue) with activated_at \(user.activatedAt.map { String($0) } ?? "missing")")
                }
                let login = try await redis.hget(keys.logins, Login.normalized(user.login))
                if login != String(userID) {
                    record(.invalidUser, userKey, "login \(user.login) maps to user \(login ?? "none") in \(keys.logins)")
                }
            } else {
                record(.invalidUser, userKey, "has missing or malformed fields: \(fields.dropLast())")
            }
            if (try? replies[2].get().isNull) != false { record(.invalidUser, userKey, "is not in \(keys.users)") }

            let balances: [String: String]
            do {
                balances = try replies[1].get().stringMap(for: "HGETALL")
            } catch {
                record(.wrongType, keys.accounts(userID), "cannot be read as the accounts hash: \(error)")
                return
            }
            var accounts: [Int: Int64] = [:]
            for (field, value) in balances {
                guard let accountID = Int(field), accountID > 0, let cents = Int64(value) else {
                    record(.invalidAccount, keys.accounts(userID), "account \"\(field)\" has balance \"\(value)\"")
                    continue
                }
                accounts[accountID] = cents
                if cents < 0 { record(.invalidAccount, keys.accounts(userID), "account \(accountID) has a negative balance \(cents)") }
                report.money.balances = report.money.balances + Money(cents: cents)
            }
            report.accounts += accounts.count
            if !accounts.isEmpty {
                let owners = try await redis.hmget(keys.accountOwners, accounts.keys.sorted().map { String($0) })
                for (accountID, owner) in zip(accounts.keys.sorted(), owners) where owner != String(userID) {
                    record(
                        .invalidAccount, keys.accounts(userID),
                        "account \(accountID) is user \(owner ?? "nobody")'s in \(keys.accountOwners)")
                }
            }
            try await checkLedger(userID, accounts: accounts)
        }

        mutating func checkLedger(_ userID: Int, accounts: [Int: Int64]) async throws {
            let ledger = keys.ledger(userID)
            var running: [Int: Int64] = [:]
            var start = "-"
            while true {
                let entries: [StreamEntry]
                do {
                    entries = try await redis.xrange(ledger, start: start, end: "+", count: checker.pageSize)
                } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                    record(.wrongType, ledger, "is not a stream")
                    return
                }
                guard let last = entries.last else { break }
                for entry in entries { checkLedgerEntry(entry, userID: userID, accounts: accounts, running: &running) }
                start = "(" + last.id
            }
            for (accountID, balance) in accounts where running[accountID, default: 0] != balance {
                record(
                    .balanceMismatch, keys.accounts(userID),
                    "account \(accountID) has balance \(balance) but its ledger entries sum to \(running[accountID, default: 0])")
            }
        }

        mutating func checkLedgerEntry(_ entry: StreamEntry, userID: Int, accounts: [Int: Int64], running: inout [Int: Int64]) {
            let ledger = keys.ledger(userID)
            guard let transaction = Transaction(entry) else {
                record(.ledgerMismatch, ledger, "entry \(entry.id) is malformed: \(entry.fields ?? [:])")
                return
            }
            let accountID = transaction.accountID
            let amount = transaction.amount.cents
            guard accounts[accountID] != nil else {
                record(.ledgerMismatch, ledger, "entry \(entry.id) names account \(accountID), which user \(userID) does not have")
                return
            }
            running[accountID, default: 0] += amount
            if transaction.balance.cents != running[accountID, default: 0] {
                record(
                    .ledgerMismatch, ledger,
                    "entry \(entry.id) says balance \(transaction.balance.cents) but account \(accountID)'s entries sum to \(running[accountID, default: 0])"
                )
            }
            if running[accountID, default: 0] < 0 {
                record(.ledgerMismatch, ledger, "entry \(entry.id) takes account \(accountID) below zero")
            }
            switch transaction.kind {
            case .deposit:
                report.money.deposits = report.money.deposits + transaction.amount
                guard amount > 0, let paymentID = transaction.paymentID else {
                    record(.paymentMismatch, ledger, "deposit \(entry.id) has amount \(amount) and no positive credit or no transaction_id")
                    return
                }
                if deposits[paymentID] != nil {
                    record(.paymentMismatch, ledger, "transaction \(paymentID) is credited twice (again in \(entry.id))")
                }
                deposits[paymentID] = (userID, accountID, amount, entry.id)
            case .stake:
                guard let betID = transaction.betID, var bet = walletBets[betID], bet.userID == userID, bet.accountID == accountID,
                    bet.amount == -amount
                else {
                    record(
                        .stakeMismatch, ledger,
                        "stake \(entry.id) of \(amount) for bet \(transaction.betID ?? "none") matches no bet of user \(userID), account \(accountID)"
                    )
                    return
                }
                bet.stakes += 1
                walletBets[betID] = bet
            case .payout:
                report.money.payouts = report.money.payouts + transaction.amount
                guard let betID = transaction.betID, var bet = walletBets[betID], bet.userID == userID, bet.accountID == accountID,
                    bet.status == .won, bet.payout == amount
                else {
                    record(
                        .payoutMismatch, ledger,
                        "payout \(entry.id) of \(amount) for bet \(transaction.betID ?? "none") matches no won bet of user \(userID), account \(accountID)"
                    )
                    return
                }
                bet.payouts += 1
                walletBets[betID] = bet
            }
        }

        // MARK: Pass 5: payments, stakes and payouts, conservation

        mutating func checkPayments() async throws {
            let prefix = keys.payment("")
            var seen = Set<String>()
            for key in try await scanAll(prefix + "*") {
                let transactionID = String(key.dropFirst(prefix.count))
                seen.insert(transactionID)
                let fields = try await redis.hmget(key, ["user_id", "account_id", "amount", "entry"])
                guard let deposit = deposits[transactionID] else {
                    record(.paymentMismatch, key, "has no deposit entry in any ledger")
                    continue
                }
                if fields != [String(deposit.userID), String(deposit.accountID), String(deposit.amount), deposit.entryID] {
                    record(
                        .paymentMismatch, key,
                        "records \(fields) but the ledger credited user \(deposit.userID), account \(deposit.accountID), \(deposit.amount) in entry \(deposit.entryID)"
                    )
                }
            }
            for (transactionID, deposit) in deposits.sorted(by: { $0.key < $1.key }) where !seen.contains(transactionID) {
                record(
                    .paymentMismatch, keys.ledger(deposit.userID), "deposit \(deposit.entryID) of \(transactionID) has no payment record")
            }
        }

        mutating func checkWalletBetsInLedgers() {
            for (id, bet) in walletBets.sorted {
                if bet.stakes != 1 {
                    record(.stakeMismatch, keys.bet(id), "has \(bet.stakes) stake entries in \(keys.ledger(bet.userID)), not one")
                }
                let expected = bet.status == .won ? 1 : 0
                if bet.payouts != expected {
                    record(
                        .payoutMismatch, keys.bet(id),
                        "is \(bet.status?.rawValue ?? "without a status") with \(bet.payouts) payout entries, not \(expected)")
                }
                let stake = Money(cents: bet.amount ?? 0)
                switch bet.status {
                case .pending: report.money.stakesHeld = report.money.stakesHeld + stake
                case .won, .lost: report.money.settledStakes = report.money.settledStakes + stake
                case nil: break
                }
            }
        }

        mutating func checkConservation() {
            let money = report.money
            if money.deposits != money.balances + money.stakesHeld + money.houseResult {
                record(
                    .moneyNotConserved, keys.prefix,
                    "deposits \(money.deposits) are not balances \(money.balances) + stakes held \(money.stakesHeld) + house result \(money.houseResult)"
                )
            }
        }
    }
}

extension Money {
    /// The money in a store as the invariant checker adds it up.
    public struct Totals: Sendable, Equatable {
        public internal(set) var deposits = Money(cents: 0)
        public internal(set) var balances = Money(cents: 0)
        /// Stakes of pending bets with money.
        public internal(set) var stakesHeld = Money(cents: 0)
        /// Stakes of settled bets with money.
        public internal(set) var settledStakes = Money(cents: 0)
        public internal(set) var payouts = Money(cents: 0)

        /// What the house won: stakes of settled bets, less what it paid out.
        public var houseResult: Money { settledStakes - payouts }
    }
}

/// Bet ids as their 60-bit numbers when they are well formed (8 bytes each instead of a string), so a
/// million fit in a few megabytes.
enum BetIDNumber {
    /// The value of each byte as a Crockford base-32 digit, 255 for bytes that are none.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 255, count: 256)
        for (index, byte) in "0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8.enumerated() { values[Int(byte)] = UInt8(index) }
        return values
    }()

    static func number(_ id: String) -> UInt64? {
        guard id.utf8.count == BetIDGenerator.length else { return nil }
        var value: UInt64 = 0
        for byte in id.utf8 {
            let digit = values[Int(byte)]
            guard digit < 32 else { return nil }
            value = value << 5 | UInt64(digit)
        }
        return value
    }
}

struct BetIDSet {
    private var numbers = Set<UInt64>()
    private var others = Set<String>()

    var count: Int { numbers.count + others.count }

    /// Inserts `id`; false if it was there already.
    mutating func insert(_ id: String) -> Bool {
        if let number = BetIDNumber.number(id) { return numbers.insert(number).inserted }
        return others.insert(id).inserted
    }

    func contains(_ id: String) -> Bool {
        if let number = BetIDNumber.number(id) { return numbers.contains(number) }
        return others.contains(id)
    }

    /// Every id, in order.
    var ids: [String] { numbers.sorted().map(BetIDGenerator.encode) + others.sorted() }
}

/// A value per bet id, keyed like `BetIDSet`.
struct BetIDMap<Value> {
    private var numbers: [UInt64: Value] = [:]
    private var others: [String: Value] = [:]

    subscript(_ id: String) -> Value? {
        get { BetIDNumber.number(id).map { numbers[$0] } ?? others[id] }
        set {
            if let number = BetIDNumber.number(id) { numbers[number] = newValue } else { others[id] = newValue }
        }
    }

    /// Every entry, in id order.
    var sorted: [(String, Value)] {
        numbers.sorted { $0.key < $1.key }.map { (BetIDGenerator.encode($0.key), $0.value) }
            + others.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
