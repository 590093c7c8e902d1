import RedisClient

/// Scans Redis and reports every broken invariant of the bet-maker layout (docs/ARCHITECTURE.md,
/// "Proof under faults"). `betmaker-worker check` runs it; the tests and the fault suite end with it.
///
/// Three passes, each in bounded pages with a few commands per page, so a million bets take
/// seconds (18 s in a release build) and memory stays at a few bytes per bet (the ids seen in the
/// event lists, kept as 60-bit numbers):
///
/// 1. every event (`SCAN` for the event hashes and lists): its fields, and its list read in pages,
///    each page's bets read with one `read_bets` call and looked up in the index with one `ZMSCORE`;
///    counts, total staked and settlement progress are compared with the bets;
/// 2. every bet hash (`SCAN`) that no event list holds: its fields and its place in the index;
/// 3. the index of all bets (`ZSCAN`): every id in it has a hash.
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
            /// A bet hash that is not in the index of all bets.
            case betNotIndexed = "bet-not-indexed"
            /// A bet hash that is not in its event's list.
            case betNotListed = "bet-not-listed"
            /// A bet id listed more than once in its event's list.
            case betListedTwice = "bet-listed-twice"
            /// A bet id in the list of an event that is not the bet's.
            case betInForeignList = "bet-in-foreign-list"
            /// An id in an event list or in the index with no bet hash behind it.
            case missingBet = "missing-bet"
            /// A key of the layout holding another type than the layout says.
            case wrongType = "wrong-type"
            /// An event field that is malformed or out of range (result, settle_pos, ...).
            case invalidEvent = "invalid-event"
            /// An event's bets/staked/won/lost disagreeing with its bets.
            case countMismatch = "count-mismatch"
            /// A bet's status disagreeing with the event's result and settle_pos.
            case settlementMismatch = "settlement-mismatch"
            /// A bet settled, or settlement begun, on an event without a result.
            case settledWithoutResult = "settled-without-result"
            /// An event marked settled whose list is not settled to the end.
            case settledIncomplete = "settled-incomplete"
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
        /// Ids in the index of all bets.
        public fileprivate(set) var indexedBets = 0

        public var isClean: Bool { violationCount == 0 }

        public func count(_ kind: Violation.Kind) -> Int { countsByKind[kind] ?? 0 }

        public var summary: String {
            "\(violationCount) violation(s); \(bets) bets, \(events) events, \(indexedBets) ids in the index checked"
        }
    }

    /// Scans everything; `onViolation` sees each violation as it is found (the command prints them).
    public func check(onViolation: @escaping @Sendable (Violation) -> Void = { _ in }) async throws -> Report {
        var scan = Scan(checker: self, onViolation: onViolation)
        try await scan.checkEvents()
        try await scan.checkUnlistedBets()
        try await scan.checkIndex()
        scan.report.bets = scan.listed.count + scan.unlisted.count
        scan.report.events = scan.events.count
        return scan.report
    }

    static let betFields = ["event_id", "amount", "status", "created_at", "settled_at"]
    static let eventFields = ["result", "reported_at", "bets", "staked", "won", "lost", "settle_pos", "settled_at"]

    /// A bet hash as read: the fields that parse, and what is wrong with it.
    struct BetRecord {
        var eventID: String?
        var amount: Int64?
        var status: BetStatus?
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
        }
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
        var events = Set<String>()

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

        /// The fields of these bets (`read_bets`, one call) and whether each is in the index of all bets
        /// (`ZMSCORE`, one command), both at once.
        func readBets(_ ids: [String]) async throws -> (fields: [Result<[String?], RedisError>], indexed: [Bool]) {
            let redis = redis
            let betKeys = ids.map(keys.bet)
            let scoresCommand = RedisCommand("ZMSCORE", arguments: [keys.allBets] + ids)
            async let scores = redis.send(scoresCommand)
            var fields: [Result<[String?], RedisError>] = []
            fields.reserveCapacity(ids.count)
            do {
                for row in try await redis.eval(Scripts.readBets, keys: betKeys).array(for: "read_bets") {
                    fields.append(.success(try row.optionalStrings(for: "read_bets")))
                }
            } catch let error as RedisError where error.serverCode != nil {
                // A key of another type fails the whole script: read this page bet by bet to name it.
                fields.removeAll()
                let replies = try await redis.pipeline(betKeys.map { RedisCommand("HMGET", arguments: [$0] + InvariantChecker.betFields) })
                for reply in replies {
                    do {
                        fields.append(.success(try reply.get().optionalStrings(for: "HMGET")))
                    } catch {
                        fields.append(.failure(error))
                    }
                }
            }
            let indexed = try await scores.array(for: "ZMSCORE").map { !$0.isNull }
            guard fields.count == ids.count, indexed.count == ids.count else {
                throw RedisError.unexpectedReply(
                    command: "read_bets", reply: "\(fields.count) bets and \(indexed.count) scores for \(ids.count) ids")
            }
            return (fields, indexed)
        }

        // MARK: Pass 1: events

        mutating func checkEvents() async throws {
            let head = keys.event("")  // "bm:{ev:}"
            let opening = String(head.dropLast())  // "bm:{ev:"
            var pending: [String] = []
            var cursor = "0"
            repeat {
                let page = try await scanPage(cursor, matching: opening + "*")
                cursor = page.cursor
                for key in page.keys {
                    let rest = key.dropFirst(opening.count)
                    let eventID: Substring
                    if rest.hasSuffix("}:bets") {
                        eventID = rest.dropLast(6)
                    } else if rest.hasSuffix("}") {
                        eventID = rest.dropLast()
                    } else {
                        continue
                    }
                    pending.append(String(eventID))
                }
            } while cursor != "0"
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
            if let settledAt, Int64(settledAt) == nil { record(.invalidEvent, eventKey, "settled_at \"\(settledAt)\" is not a time") }
            if settlePosition > length {
                record(.invalidEvent, eventKey, "settle_pos \(settlePosition) is past the end of the list (\(length) bets)")
            }
            if fields[0] == nil {
                if settlePosition != 0 {
                    record(.settledWithoutResult, eventKey, "settle_pos is \(settlePosition) but the event has no result")
                }
                if settledAt != nil { record(.settledWithoutResult, eventKey, "settled_at is set but the event has no result") }
            }

            var counted = (staked: Int64(0), won: Int64(0), lost: Int64(0), pending: 0)
            var start = 0
            while start < length {
                let ids = try await redis.lrange(listKey, start, start + checker.pageSize - 1)
                if ids.isEmpty { break }
                let read = try await readBets(ids)
                for (offset, id) in ids.enumerated() {
                    let position = start + offset
                    let betKey = keys.bet(id)
                    let bet: BetRecord
                    do {
                        guard let read = BetRecord(try read.fields[offset].get()) else {
                            record(.missingBet, listKey, "position \(position) names bet \(id), which has no hash")
                            continue
                        }
                        bet = read
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
                    if !read.indexed[offset] { record(.betNotIndexed, betKey, "is not in \(keys.allBets)") }
                    counted.staked += bet.amount ?? 0
                    switch bet.status {
                    case .won: counted.won += 1
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
                start += ids.count
            }

            if bets != length { record(.countMismatch, eventKey, "bets is \(bets) but the list holds \(length)") }
            if staked != counted.staked {
                record(.countMismatch, eventKey, "staked is \(staked) cents but its bets sum to \(counted.staked)")
            }
            if won != counted.won { record(.countMismatch, eventKey, "won is \(won) but \(counted.won) of its bets are won") }
            if lost != counted.lost { record(.countMismatch, eventKey, "lost is \(lost) but \(counted.lost) of its bets are lost") }
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
                    guard let read = BetRecord(try read.fields[offset].get()) else {
                        record(.invalidBet, betKey, "has none of the bet fields")
                        continue
                    }
                    bet = read
                } catch {
                    record(.wrongType, betKey, "cannot be read as a bet hash: \(error)")
                    continue
                }
                for problem in bet.problems { record(.invalidBet, betKey, problem) }
                if !read.indexed[offset] { record(.betNotIndexed, betKey, "is not in \(keys.allBets)") }
                if let eventID = bet.eventID {
                    record(.betNotListed, betKey, "is not in the list of its event \(eventID) (\(keys.eventBets(eventID)))")
                } else {
                    record(.betNotListed, betKey, "is in no event's list")
                }
            }
        }

        // MARK: Pass 3: the index of all bets

        mutating func checkIndex() async throws {
            let index = keys.allBets
            do {
                report.indexedBets = try await redis.zcard(index)
            } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                record(.wrongType, index, "is not a sorted set")
                return
            }
            var reported = Set<String>()
            var cursor = "0"
            repeat {
                let reply = try await redis.send(RedisCommand("ZSCAN", index, cursor, "COUNT", checker.pageSize)).array(for: "ZSCAN")
                guard reply.count == 2 else { throw RESPValue.array(reply).unexpected("ZSCAN") }
                cursor = try reply[0].string(for: "ZSCAN")
                let pairs = try reply[1].strings(for: "ZSCAN")
                // Members and scores alternate; only members without a known hash are asked about.
                let unknown = stride(from: 0, to: pairs.count, by: 2).map { pairs[$0] }.filter {
                    !listed.contains($0) && !unlisted.contains($0) && !reported.contains($0)
                }
                guard !unknown.isEmpty else { continue }
                let replies = try await redis.pipeline(unknown.map { RedisCommand("EXISTS", keys.bet($0)) })
                for (id, reply) in zip(unknown, replies) where (try? reply.get().int(for: "EXISTS")) != 1 {
                    reported.insert(id)
                    record(.missingBet, index, "holds bet \(id), which has no hash")
                }
            } while cursor != "0"
        }
    }
}

/// Bet ids, kept as their 60-bit numbers when they are well formed (8 bytes each instead of a
/// string), so a million fit in a few megabytes.
struct BetIDSet {
    private var numbers = Set<UInt64>()
    private var others = Set<String>()

    var count: Int { numbers.count + others.count }

    /// The value of each byte as a Crockford base-32 digit, 255 for bytes that are none.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 255, count: 256)
        for (index, byte) in "0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8.enumerated() { values[Int(byte)] = UInt8(index) }
        return values
    }()

    private static func number(_ id: String) -> UInt64? {
        guard id.utf8.count == BetIDGenerator.length else { return nil }
        var value: UInt64 = 0
        for byte in id.utf8 {
            let digit = values[Int(byte)]
            guard digit < 32 else { return nil }
            value = value << 5 | UInt64(digit)
        }
        return value
    }

    /// Inserts `id`; false if it was there already.
    mutating func insert(_ id: String) -> Bool {
        if let number = Self.number(id) { return numbers.insert(number).inserted }
        return others.insert(id).inserted
    }

    func contains(_ id: String) -> Bool {
        if let number = Self.number(id) { return numbers.contains(number) }
        return others.contains(id)
    }
}
