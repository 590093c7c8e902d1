import RedisClient

/// Pass 5 of the invariant checker: payment records against deposits, each bet with money against
/// its stake, payout and refund entries (or the credits its outbox still owes), and the conservation
/// of money.
extension InvariantChecker.Scan {
    mutating func checkPayments() async throws {
        // Payment records are on their users' slots: `<prefix>{u:<id>}:payment:<transaction id>`.
        let opening = String(keys.user(0).dropLast(2))  // "bm:{u:"
        let marker = "}:payment:"
        var seen = Set<String>()
        for key in try await scanAll(opening + "*" + marker + "*") {
            let rest = key.dropFirst(opening.count)
            guard let close = rest.firstIndex(of: "}"), rest[close...].hasPrefix(marker) else { continue }
            let transactionID = String(rest[close...].dropFirst(marker.count))
            guard seen.insert(transactionID).inserted else {
                record(.paymentMismatch, key, "transaction \(transactionID) has payment records on more than one user")
                continue
            }
            let fields = try await redis.hmget(key, ["user_id", "account_id", "amount", "entry"])
            // Each credit follows its claim on `{g}` (a claim without its credit yet is a delivery to be retried).
            let claim = try await redis.hmget(keys.paymentClaim(transactionID), ["user_id", "account_id", "amount"])
            if claim != Array(fields.prefix(3)) {
                record(
                    .paymentMismatch, key, "records \(fields.prefix(3)) but its claim \(keys.paymentClaim(transactionID)) holds \(claim)")
            }
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
        for (id, bet) in walletBets.sorted(by: { $0.key < $1.key }) {
            if bet.stakes != 1 {
                record(.stakeMismatch, keys.bet(id), "has \(bet.stakes) stake entries in \(keys.ledger(bet.userID)), not one")
            }
            let expected = bet.status == .won ? 1 : 0
            if bet.payouts != expected {
                record(
                    .payoutMismatch, keys.bet(id),
                    "is \(bet.status?.rawValue ?? "without a status") with \(bet.payouts) payout entries, not \(expected)")
            }
            let refunds = bet.status == .void ? 1 : 0
            if bet.refunds != refunds {
                record(
                    .refundMismatch, keys.bet(id),
                    "is \(bet.status?.rawValue ?? "without a status") with \(bet.refunds) refund entries, not \(refunds)")
            }
            let stake = Money(cents: bet.amount ?? 0)
            switch bet.status {
            case .pending: report.money.stakesHeld = report.money.stakesHeld + stake
            case .won, .lost, .void: report.money.settledStakes = report.money.settledStakes + stake
            case nil: break
            }
        }
    }

    mutating func checkConservation() {
        let money = report.money
        if money.deposits != money.balances + money.holds + money.stakesHeld + money.owed + money.houseResult {
            record(
                .moneyNotConserved, keys.prefix,
                "deposits \(money.deposits) are not balances \(money.balances) + holds \(money.holds) + stakes held \(money.stakesHeld) "
                    + "+ credits owed \(money.owed) + house result \(money.houseResult)")
        }
    }
}
