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
        /// Every trade read, by id, for the ledger pass and the money.
        var trades: [String: TradeRecord] = [:]
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

        /// The fields of these bets (`read_bets`, one call); a page with a key of another type, or a
        /// value `read_bets` cannot pack, is read bet by bet, to name it.
        func readBets(_ ids: [String]) async throws -> [Result<[String?], RedisError>] {
            let betKeys = ids.map(keys.bet)
            var fields: [Result<[String?], RedisError>] = []
            fields.reserveCapacity(ids.count)
            do {
                for row in try await redis.eval(Scripts.readBets, keys: betKeys).array(for: "read_bets") {
                    guard let unpacked = BetStore.unpack(try row.string(for: "read_bets")) else { throw UnpackFailed() }
                    fields.append(.success(unpacked))
                }
            } catch let error where error is UnpackFailed || (error as? RedisError)?.serverCode != nil {
                fields = try await readBetsOneByOne(betKeys)
            }
            guard fields.count == ids.count else {
                throw RedisError.unexpectedReply(command: "read_bets", reply: "\(fields.count) bets for \(ids.count) ids")
            }
            return fields
        }

        /// A value with a space in it: `read_bets` packs fields with spaces between them.
        private struct UnpackFailed: Error {}

        private func readBetsOneByOne(_ betKeys: [String]) async throws -> [Result<[String?], RedisError>] {
            var fields: [Result<[String?], RedisError>] = []
            fields.reserveCapacity(betKeys.count)
            let replies = try await redis.pipeline(betKeys.map { RedisCommand("HMGET", arguments: [$0] + BetStore.storedFields) })
            for reply in replies {
                do {
                    fields.append(.success(try reply.get().optionalStrings(for: "HMGET")))
                } catch {
                    fields.append(.failure(error))
                }
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
    }
}
