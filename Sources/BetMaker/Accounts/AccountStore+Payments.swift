import RedisClient

/// Deposits from the payment provider, in two single-slot steps (`Scripts+Deposit.swift`): the
/// transaction id, the signature and the account's owner claimed on `{g}`, then the credit on the
/// user's slot. A delivery retried after a crash between them finds its own claim and completes the
/// credit; the provider delivers until it is answered.
extension AccountStore {
    public enum DepositOutcome: Sendable, Equatable {
        case credited(Payment)
        /// This transaction id was credited before, with the same user, account and amount.
        case replayed(Payment)
        /// This transaction id was claimed before for another user, account or amount: those values.
        case conflict(userID: Int, accountID: Int, amount: Money)
        /// The delivery's signature was accepted before for another transaction (this one's values are
        /// another's with digits moved between them): nothing was credited.
        case signatureReused(transactionID: String)
        case noSuchUser
        case foreignAccount
    }

    /// Credits a deposit once per transaction id. `signature`, the provider's (any case), is recorded
    /// with the transaction and refused for any other (`Scripts.claimPayment`); the seed's own deposit
    /// has none.
    public func deposit(
        transactionID: String, userID: Int, accountID: Int, amount: Money, signature: String? = nil
    ) async throws -> DepositOutcome {
        switch try await claimPayment(
            transactionID: transactionID, userID: userID, accountID: accountID, amount: amount, signature: signature)
        {
        case .claimed(let accountCreated):
            return try await credit(
                transactionID: transactionID, userID: userID, accountID: accountID, amount: amount, accountCreated: accountCreated)
        case .refused(let outcome):
            return outcome
        }
    }

    enum ClaimOutcome: Equatable {
        /// Claimed now or before with the same values: the credit may follow (again).
        case claimed(accountCreated: Bool)
        case refused(DepositOutcome)
    }

    /// Step 1 on `{g}` (`claim_payment`).
    func claimPayment(transactionID: String, userID: Int, accountID: Int, amount: Money, signature: String?) async throws -> ClaimOutcome {
        var scriptKeys = [keys.paymentClaim(transactionID), keys.accountOwners, keys.users, keys.accountIDs]
        if let signature { scriptKeys.append(keys.paymentSignature(signature.lowercased())) }
        let reply = try await redis.eval(
            Scripts.claimPayment, keys: scriptKeys,
            arguments: [transactionID, String(userID), String(accountID), String(amount.cents), String(currentMilliseconds())]
        ).strings(for: "claim_payment")
        switch reply.first {
        case "claimed" where reply.count == 2: return .claimed(accountCreated: reply[1] == "1")
        case "conflict" where reply.count == 4:
            guard let user = Int(reply[1]), let account = Int(reply[2]), let cents = Int64(reply[3]) else { break }
            return .refused(.conflict(userID: user, accountID: account, amount: Money(cents: cents)))
        case "signature_reused" where reply.count == 2: return .refused(.signatureReused(transactionID: reply[1]))
        case "no_user": return .refused(.noSuchUser)
        case "foreign_account": return .refused(.foreignAccount)
        default: break
        }
        throw RedisError.unexpectedReply(command: "claim_payment", reply: "\(reply)")
    }

    /// Step 2 on the user's slot (`deposit`): credits a claimed payment once.
    func credit(transactionID: String, userID: Int, accountID: Int, amount: Money, accountCreated: Bool) async throws -> DepositOutcome {
        let reply = try await redis.eval(
            Scripts.deposit,
            keys: [keys.payment(userID: userID, transactionID: transactionID), keys.accounts(userID), keys.ledger(userID)],
            arguments: [
                transactionID, String(userID), String(accountID), String(amount.cents), String(currentMilliseconds()),
                accountCreated ? "1" : "0",
            ]
        ).strings(for: "deposit")
        guard let payment = Payment(transactionID: transactionID, fields: reply.dropFirst()) else {
            throw RedisError.unexpectedReply(command: "deposit", reply: "\(reply)")
        }
        switch reply.first {
        case "credited": return .credited(payment)
        case "replayed": return .replayed(payment)
        default: throw RedisError.unexpectedReply(command: "deposit", reply: "\(reply)")
        }
    }
}
