import RedisClient

/// Money across slots in the invariant checker (`Wallet`): each user's pending holds, the stakes
/// that no bet or trade stands for (held, or held and released), and the credits the outboxes still owe.
extension InvariantChecker.Scan {
    /// A stake entry whose bet or trade does not exist: it must be a pending hold, or be given back by
    /// a `release` entry later in the same ledger.
    struct LooseStake {
        let userID: Int
        let accountID: Int
        let amount: Int64
        let entryID: String
    }

    /// Reads the user's pending holds before the ledger pass: each hold record is well formed and not
    /// older than the reconciler lets one get; one whose bet or trade is not placed holds money.
    mutating func readHolds(_ userID: Int) async throws {
        let key = keys.holds(userID)
        let records: [String: String]
        do {
            records = try await redis.send(RedisCommand("HGETALL", key)).stringMap(for: "HGETALL")
        } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
            record(.wrongType, key, "is not a hash")
            return
        }
        let now = currentMilliseconds()
        for (id, value) in records.sorted(by: { $0.key < $1.key }) {
            guard let hold = Hold(userID: userID, id: id, record: value) else {
                record(.holdMismatch, key, "hold \(id) is \(value), not kind:account:amount:created_ms")
                continue
            }
            if let maximum = checker.maximumHoldAge, now - hold.createdAt > maximum.inMilliseconds {
                record(.holdMismatch, key, "hold \(id) is \(now - hold.createdAt) ms old: the reconciler should have finished it")
            }
            pendingHolds[hold.reference] = hold
            if !isPlaced(hold.reference) { report.money.holds = report.money.holds + hold.amount }
        }
    }

    /// Bets whose stake the worker should have confirmed on the user's slot by now (`StakeConfirmer`) and
    /// that the ledgers show no stake for: a stake lost in a failover that was not repaired (the account
    /// no longer covers it, or no worker ran). An old entry whose stake is there is only bookkeeping the
    /// worker has not done yet (it was stopped), not a violation.
    mutating func checkUnconfirmedStakes() async throws {
        guard let maximum = checker.maximumHoldAge else { return }
        let cutoff = currentMilliseconds() - maximum.inMilliseconds
        for shard in keys.allShards {
            let set = keys.unconfirmedStakes(shard: shard)
            let old: [String]
            do {
                old = try await redis.send(RedisCommand("ZRANGEBYSCORE", set, "-inf", String(cutoff))).strings(for: "ZRANGEBYSCORE")
            } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                record(.wrongType, set, "is not a sorted set")
                continue
            }
            for id in old where BetID(id).flatMap({ walletBets[$0] })?.stakes != 1 {
                record(
                    .holdMismatch, set,
                    "the stake of bet \(id) is unconfirmed for longer than \(maximum.inMilliseconds) ms and not in its user's ledger")
            }
        }
    }

    /// Whether the bet or trade of a reference exists.
    func isPlaced(_ reference: MoneyReference) -> Bool {
        switch reference.kind {
        case .bet: BetID(reference.id).map { walletBets[$0] != nil } ?? false
        case .trade: trades[reference.id] != nil
        }
    }

    /// A stake entry of a reference that is not placed: a pending hold's (same account and amount), or
    /// one a `release` entry must give back.
    mutating func checkLooseStake(_ transaction: Transaction, reference: MoneyReference, entryID: String, userID: Int) {
        if let hold = pendingHolds[reference], hold.userID == userID, hold.accountID == transaction.accountID,
            hold.amount.cents == -transaction.amount.cents
        {
            return
        }
        guard looseStakes[reference] == nil else {
            record(.stakeMismatch, keys.ledger(userID), "stake \(entryID) for \(reference) is a second stake without a bet or trade")
            return
        }
        looseStakes[reference] = LooseStake(
            userID: userID, accountID: transaction.accountID, amount: -transaction.amount.cents, entryID: entryID)
    }

    /// A `release` entry gives back a stake of this ledger whose bet or trade was never placed.
    mutating func checkRelease(_ transaction: Transaction, entryID: String, userID: Int) {
        let reference =
            transaction.betID.map { MoneyReference(kind: .bet, id: $0) } ?? transaction.tradeID.map { MoneyReference(kind: .trade, id: $0) }
        guard let reference, let stake = looseStakes[reference], stake.userID == userID, stake.accountID == transaction.accountID,
            stake.amount == transaction.amount.cents, !isPlaced(reference)
        else {
            record(
                .stakeMismatch, keys.ledger(userID),
                "release \(entryID) of \(transaction.amount) gives back no stake of an unplaced bet or trade of user \(userID)")
            return
        }
        looseStakes[reference] = nil
    }

    /// Stakes left that no bet, trade, pending hold or release accounts for: money gone.
    mutating func checkLooseStakesReleased() {
        for (reference, stake) in looseStakes.sorted(by: { $0.value.entryID < $1.value.entryID }) {
            record(
                .stakeMismatch, keys.ledger(stake.userID),
                "stake \(stake.entryID) of \(stake.amount) for \(reference) matches no bet, trade or pending hold, and was not released")
        }
    }

    /// Every credits outbox (settlement's shards, every symbol's, and `extraCreditOutboxes`): each entry
    /// is a credit; one its user's `credited` hash lacks is still owed, counted against its bet (a won bet
    /// is paid or owed its payout exactly once) and in the money.
    mutating func checkCreditOutboxes() async throws {
        let symbols = try await scanAll(keys.tradeCredits("*")).sorted()
        var seen = Set<String>()
        for stream in keys.creditOutboxes + symbols + checker.extraCreditOutboxes where seen.insert(stream).inserted {
            var start = "-"
            while true {
                let entries: [StreamEntry]
                do {
                    entries = try await redis.xrange(stream, start: start, end: "+", count: checker.pageSize)
                } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
                    record(.wrongType, stream, "is not a stream")
                    break
                }
                guard let last = entries.last else { break }
                start = "(" + last.id
                let parsed = entries.map { (id: $0.id, entry: CreditOutbox.Entry($0)) }
                let credits = parsed.compactMap(\.entry)
                let applied = try await redis.pipeline(
                    credits.map { RedisCommand("HEXISTS", keys.credited($0.userID), $0.credit.reference.creditID) })
                var index = 0
                for (id, entry) in parsed {
                    guard let entry else {
                        record(.creditMismatch, stream, "entry \(id) is no credit")
                        continue
                    }
                    defer { index += 1 }
                    if try applied[index].get().int(for: "HEXISTS") == 1 { continue }
                    owe(entry, entryID: id, stream: stream)
                }
            }
        }
    }

    private mutating func owe(_ entry: CreditOutbox.Entry, entryID: String, stream: String) {
        let credit = entry.credit
        report.money.owed = report.money.owed + credit.amount
        guard credit.reference.kind == .bet else {
            owedTrades[credit.reference.id, default: 0] += credit.amount.cents
            return
        }
        // A payout is a won bet's locked-in payout, a refund a void bet's stake.
        let status: BetStatus = credit.kind == .payout ? .won : .void
        guard let id = BetID(credit.reference.id), var bet = walletBets[id], bet.userID == entry.userID, bet.accountID == credit.accountID,
            bet.status == status, credit.amount.cents == (credit.kind == .payout ? bet.payout : bet.amount)
        else {
            record(
                .creditMismatch, stream,
                "entry \(entryID) owes \(credit.kind.rawValue) \(credit.amount) for \(credit.reference) to user \(entry.userID), which matches no \(status.rawValue) bet of that account"
            )
            return
        }
        if credit.kind == .payout { bet.payouts += 1 } else { bet.refunds += 1 }
        walletBets[id] = bet
    }
}
