import RedisClient

/// Pass 4 of the invariant checker: every user, their accounts, and their ledger read from the start
/// with a running balance per account.
extension InvariantChecker.Scan {
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
        let listed = (try? replies[2].get().isNull) == false
        var orphan = false
        if let user = User(id: userID, fields: Array(fields.prefix(User.storedFields.count))) {
            if fields.last == nil { record(.invalidUser, userKey, "has no password hash") }
            if (user.status == .pending) != (user.activatedAt == nil) {
                record(
                    .invalidUser, userKey,
                    "is \(user.status.rawValue) with activated_at \(user.activatedAt.map { String($0) } ?? "missing")")
            }
            let login = try await redis.hget(keys.logins, Login.normalized(user.login))
            // A registration cut short before its login was claimed leaves an orphan: no login names it,
            // no index lists it, so nothing reaches it; it must hold no money.
            orphan = login != String(userID) && !listed
            if login != String(userID) && !orphan {
                record(.invalidUser, userKey, "login \(user.login) maps to user \(login ?? "none") in \(keys.logins)")
            }
        } else {
            record(.invalidUser, userKey, "has missing or malformed fields: \(fields.dropLast())")
        }
        if !listed && !orphan { record(.invalidUser, userKey, "is not in \(keys.users)") }
        if orphan { report.orphanUsers += 1 }

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
        if orphan {
            for (accountID, cents) in accounts where cents != 0 {
                record(.invalidAccount, keys.accounts(userID), "account \(accountID) of an orphan user (no login names it) holds \(cents)")
            }
        } else if !accounts.isEmpty {
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
        case .release:
            checkRelease(transaction, entryID: entry.id, userID: userID)
        case .stake where transaction.tradeID.map({ trades[$0] == nil }) ?? false:
            checkLooseStake(transaction, reference: .trade(transaction.tradeID ?? ""), entryID: entry.id, userID: userID)
        case .stake where transaction.betID.flatMap({ BetID($0) }).map({ walletBets[$0] == nil }) ?? false:
            checkLooseStake(
                transaction, reference: MoneyReference(kind: .bet, id: transaction.betID ?? ""), entryID: entry.id, userID: userID)
        case .stake where transaction.tradeID != nil:
            checkTradeStake(transaction, entryID: entry.id, userID: userID)
        case .payout where transaction.tradeID != nil:
            report.money.payouts = report.money.payouts + transaction.amount
            checkTradePayout(transaction, entryID: entry.id, userID: userID)
        case .refund where transaction.tradeID != nil:
            report.money.refunds = report.money.refunds + transaction.amount
            checkTradeRefund(transaction, entryID: entry.id, userID: userID)
        case .stake:
            guard let betID = transaction.betID.flatMap({ BetID($0) }), var bet = walletBets[betID], bet.userID == userID,
                bet.accountID == accountID,
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
            matchBetCredit(
                transaction, entryID: entry.id, userID: userID, status: .won, expected: { $0.payout }, count: \.payouts,
                problem: .payoutMismatch)
        case .refund:
            report.money.refunds = report.money.refunds + transaction.amount
            matchBetCredit(
                transaction, entryID: entry.id, userID: userID, status: .void, expected: { $0.amount }, count: \.refunds,
                problem: .refundMismatch)
        }
    }

    /// A payout or a refund names a bet of this user and account with the status that credits it, for
    /// the amount that status credits (a won bet's payout, a void bet's stake); each is counted, so a
    /// later pass finds a bet credited twice or never.
    private mutating func matchBetCredit(
        _ transaction: Transaction, entryID: String, userID: Int, status: BetStatus,
        expected: (WalletBet) -> Int64?, count: WritableKeyPath<WalletBet, Int>, problem: InvariantChecker.Violation.Kind
    ) {
        let amount = transaction.amount.cents
        guard let betID = transaction.betID.flatMap({ BetID($0) }), var bet = walletBets[betID], bet.userID == userID,
            bet.accountID == transaction.accountID, bet.status == status, expected(bet) == amount
        else {
            record(
                problem, keys.ledger(userID),
                "\(transaction.kind.rawValue) \(entryID) of \(amount) for bet \(transaction.betID ?? "none") matches no \(status.rawValue) bet of user \(userID), account \(transaction.accountID)"
            )
            return
        }
        bet[keyPath: count] += 1
        walletBets[betID] = bet
    }
}
