import RedisClient

extension InvariantChecker {
    /// The state of one run.
    struct Scan {
        // The passes are extensions in files of their own, where the checker's nested types need a name.
        typealias BetRecord = InvariantChecker.BetRecord
        typealias WalletBet = InvariantChecker.WalletBet

        let checker: InvariantChecker
        let onViolation: @Sendable (Violation) -> Void
        var report = Report()
        /// Bets seen in their own event's list.
        var listed = Set<BetID>()
        /// Bets no list of their event holds.
        var unlisted = Set<BetID>()
        /// Bet keys that cannot be read as bets (another type): reported as such, and nothing else.
        var unreadable = Set<BetID>()
        /// Bets seen in an index.
        var indexed = Set<BetID>()
        /// The bets with money seen, for the index and ledger checks: every other bet is anonymous.
        var walletBets: [BetID: WalletBet] = [:]
        var events = Set<String>()
        /// The members of the index of unsettled events.
        var unsettledIndex = Set<String>()
        /// Every trade read, by id, for the ledger pass and the money.
        var trades: [String: TradeRecord] = [:]
        /// Every pending hold read (`readHolds`), and the stakes of references no bet or trade stands for.
        var pendingHolds: [MoneyReference: Hold] = [:]
        var looseStakes: [MoneyReference: LooseStake] = [:]
        /// What the outboxes still owe for each trade (cents), for the trades' checks.
        var owedTrades: [String: Int64] = [:]
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

        /// One page of `SCAN ... MATCH` on one master (every node on a cluster holds only its own
        /// slots' keys): the next cursor ("0" at the end) and the keys found.
        func scanPage(_ cursor: String, matching pattern: String, on node: RedisEndpoint) async throws -> (cursor: String, keys: [String]) {
            let command = RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", checker.pageSize)
            let reply = try await redis.connection(to: node).send(command).array(for: "SCAN")
            guard reply.count == 2 else { throw RESPValue.array(reply).unexpected("SCAN") }
            return (try reply[0].string(for: "SCAN"), try reply[1].strings(for: "SCAN"))
        }

        /// Every key matching `pattern`, on every master.
        func scanAll(_ pattern: String) async throws -> [String] {
            var found: [String] = []
            for node in try await redis.masters() {
                var cursor = "0"
                repeat {
                    let page = try await scanPage(cursor, matching: pattern, on: node)
                    cursor = page.cursor
                    found += page.keys
                } while cursor != "0"
            }
            return found
        }

        /// These bets as stored: an `HMGET` of every field per bet, pipelined; a key of another type
        /// fails on its own.
        func readBets(_ ids: [BetID]) async throws -> [Result<StoredBet, RedisError>] {
            let replies = try await redis.pipeline(ids.map { RedisCommand("HMGET", arguments: [keys.bet($0)] + BetRecord.fields) })
            return replies.map { reply in
                reply.flatMap { value in
                    Result { try value.optionalStrings(for: "HMGET") }.mapError {
                        $0 as? RedisError ?? .unexpectedReply(command: "HMGET", reply: "\(value)")
                    }
                }.map(StoredBet.init)
            }
        }

        /// Notes who owns a bet that was read, for the index and ledger passes.
        mutating func remember(_ id: BetID, _ bet: BetRecord) {
            if let wager = bet.wager {
                walletBets[id] = WalletBet(
                    userID: wager.userID, accountID: wager.accountID, amount: bet.amount, status: bet.status, payout: wager.payout)
            }
        }
    }
}
