import RedisClient

/// What money moves for: a bet or a trade, by its id. The user-slot steps (`Wallet`) are the same for
/// both; the reference names the ledger entries (`bet_id` or `trade_id`) and the user's list it joins.
public struct MoneyReference: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case bet
        case trade
    }

    public let kind: Kind
    public let id: String

    public init(kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func bet(_ id: BetID) -> MoneyReference { MoneyReference(kind: .bet, id: id.description) }
    public static func trade(_ id: String) -> MoneyReference { MoneyReference(kind: .trade, id: id) }

    /// The ledger field that names it: `bet_id` or `trade_id`.
    public var field: String { kind.rawValue + "_id" }
    /// The id under which its credit is applied once (`RedisKeys.credited`): `bet:<id>` or `trade:<id>`.
    public var creditID: String { kind.rawValue + ":" + id }
    public var description: String { creditID }
}

/// A stake taken from a user's account for a bet or trade that is not (known to be) placed yet.
public struct Hold: Sendable, Equatable {
    public let reference: MoneyReference
    public let userID: Int
    public let accountID: Int
    public let amount: Money
    /// Redis's clock when it was taken (ms).
    public let createdAt: Int64

    /// A hold from its record in `RedisKeys.holds` (`kind:account:amount:created_ms`).
    init?(userID: Int, id: String, record: String) {
        let parts = record.split(separator: ":")
        guard parts.count == 4, let kind = MoneyReference.Kind(rawValue: String(parts[0])), let account = Int(parts[1]),
            let cents = Int64(parts[2]), let created = Int64(parts[3])
        else { return nil }
        self.init(
            reference: MoneyReference(kind: kind, id: id), userID: userID, accountID: account, amount: Money(cents: cents),
            createdAt: created)
    }

    public init(reference: MoneyReference, userID: Int, accountID: Int, amount: Money, createdAt: Int64) {
        self.reference = reference
        self.userID = userID
        self.accountID = accountID
        self.amount = amount
        self.createdAt = createdAt
    }
}

/// A user's money on the user's own slot (`{u:<id>}`): the steps of a two-phase transfer with another
/// owner's slot (an event's, a symbol's), each one script and idempotent.
///
/// 1. `hold` takes the stake (debit, `stake` ledger entry, a pending hold, the reference in the user's list);
/// 2. the caller places the bet or trade on the owner's slot, idempotent by the same reference;
/// 3. `release` posts the hold (placed) or voids it (refused: the stake comes back, a `release` entry).
///
/// A crash between the steps leaves a pending hold, which the worker's reconciler finishes by asking
/// the owner's slot. What settlement owes comes back through a credits outbox and `apply`.
public struct Wallet: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let idempotencyTTL: Duration

    public init(redis: RedisClient, keys: RedisKeys, idempotencyTTL: Duration = .seconds(24 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.idempotencyTTL = idempotencyTTL
    }

    // MARK: Holding

    public enum HoldOutcome: Sendable, Equatable {
        /// The stake is held (now, or by an earlier call with this reference).
        case held(Hold)
        /// An earlier call with this reference was released since (`post` or `void`).
        case released(Release)
        /// An earlier request with the same Idempotency-Key held `reference`; `pending` is its hold while
        /// it is not released (the caller finishes that request), nil once posted.
        case replayed(reference: MoneyReference, pending: Hold?)
        case idempotencyKeyReused
        /// The user was disabled (or never activated) since the token was issued.
        case inactiveUser
        /// The user is staff (a trader or an administrator): staff do not bet or trade.
        case staff(Role)
        /// The account does not exist or is not the user's.
        case noAccount
        case insufficientFunds(balance: Money)
    }

    /// Takes `amount` from the user's account (the first one when `accountID` is nil) for `reference`.
    public func hold(
        _ reference: MoneyReference, userID: Int, amount: Money, accountID: Int?, idempotency: IdempotencyKey? = nil
    ) async throws -> HoldOutcome {
        let list = reference.kind == .bet ? keys.userBets(userID) : keys.userTrades(userID)
        var scriptKeys = [
            keys.user(userID), keys.accounts(userID), keys.ledger(userID), keys.holds(userID), keys.releasedHolds(userID), list,
        ]
        var arguments = [reference.id, reference.kind.rawValue, String(amount.cents), accountID.map { String($0) } ?? ""]
        if let idempotency {
            scriptKeys.append(keys.userIdempotency(userID, sha256Hex(idempotency.key)))
            arguments += [idempotency.fingerprint, String(idempotencyTTL.inMilliseconds)]
        }
        let reply = try await redis.eval(Scripts.holdStake, keys: scriptKeys, arguments: arguments).strings(for: "hold_stake")
        let detail = reply.count > 1 ? reply[1] : ""
        switch reply.first {
        case "held":
            guard reply.count == 3, let account = Int(reply[1]), let created = Int64(reply[2]) else { break }
            return .held(Hold(reference: reference, userID: userID, accountID: account, amount: amount, createdAt: created))
        case "released":
            guard let release = Release(rawValue: detail) else { break }
            return .released(release)
        case "replayed":
            let earlier = MoneyReference(kind: reference.kind, id: detail)
            if reply.count == 4, reply[2] == "held" {
                guard let hold = Hold(userID: userID, id: detail, record: reply[3]) else { break }
                return .replayed(reference: earlier, pending: hold)
            }
            return .replayed(reference: earlier, pending: nil)
        case "idempotency_mismatch": return .idempotencyKeyReused
        case "inactive_user": return .inactiveUser
        case "staff": return .staff(Role(rawValue: detail) ?? .trader)
        case "no_account": return .noAccount
        case "insufficient_funds": return .insufficientFunds(balance: Money(cents: Int64(detail) ?? 0))
        default: break
        }
        throw RedisError.unexpectedReply(command: "hold_stake", reply: "\(reply)")
    }

    // MARK: Releasing

    public enum Release: String, Sendable, Equatable {
        /// The bet or trade exists: the stake stays spent.
        case post
        /// It was refused or never placed: the stake goes back.
        case void
    }

    public enum ReleaseOutcome: Sendable, Equatable {
        case posted
        /// The stake went back; the account's balance after it.
        case voided(balance: Money)
        /// Released before, this way.
        case alreadyReleased(Release)
        /// No hold was ever taken for the reference.
        case noHold
    }

    /// Posts or voids the user's hold for `reference`, once.
    public func release(_ reference: MoneyReference, userID: Int, _ release: Release) async throws -> ReleaseOutcome {
        let reply = try await redis.eval(
            Scripts.releaseHold, keys: [keys.holds(userID), keys.releasedHolds(userID), keys.accounts(userID), keys.ledger(userID)],
            arguments: [reference.id, release.rawValue]
        ).strings(for: "release_hold")
        switch reply.first {
        case "posted": return .posted
        case "voided":
            if reply.count == 2, let cents = Int64(reply[1]) { return .voided(balance: Money(cents: cents)) }
        case "already":
            if reply.count == 2, let earlier = Release(rawValue: reply[1]) { return .alreadyReleased(earlier) }
        case "no_hold": return .noHold
        default: break
        }
        throw RedisError.unexpectedReply(command: "release_hold", reply: "\(reply)")
    }

    /// The user's pending holds, oldest first.
    public func holds(userID: Int) async throws -> [Hold] {
        let records = try await redis.send(RedisCommand("HGETALL", keys.holds(userID))).stringMap(for: "HGETALL")
        return records.compactMap { Hold(userID: userID, id: $0.key, record: $0.value) }.sorted { $0.createdAt < $1.createdAt }
    }

    // MARK: Credits

    /// Money an owner's slot owes a user (a payout, a refund), applied once by its reference.
    public struct Credit: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case payout
            case refund
        }

        public let reference: MoneyReference
        public let kind: Kind
        public let accountID: Int
        public let amount: Money

        public init(reference: MoneyReference, kind: Kind, accountID: Int, amount: Money) {
            self.reference = reference
            self.kind = kind
            self.accountID = accountID
            self.amount = amount
        }

        var arguments: [String] {
            [reference.creditID, kind.rawValue, String(accountID), String(amount.cents), reference.field, reference.id]
        }
    }

    /// The `apply_credits` call for one user's credits, for callers that pipeline several users.
    public func applyCommand(_ credits: [Credit], userID: Int) -> RedisCommand {
        Scripts.applyCredits.evalshaCommand(
            keys: [keys.accounts(userID), keys.ledger(userID), keys.credited(userID)], arguments: credits.flatMap(\.arguments))
    }

    /// Applies the user's credits, each once whatever was applied before: how many were applied now,
    /// and how many had been.
    @discardableResult
    public func apply(_ credits: [Credit], userID: Int) async throws -> (applied: Int, alreadyApplied: Int) {
        let reply = try await redis.eval(
            Scripts.applyCredits, keys: [keys.accounts(userID), keys.ledger(userID), keys.credited(userID)],
            arguments: credits.flatMap(\.arguments)
        ).strings(for: "apply_credits")
        guard reply.count == 2, let applied = Int(reply[0]), let already = Int(reply[1]) else {
            throw RedisError.unexpectedReply(command: "apply_credits", reply: "\(reply)")
        }
        return (applied, already)
    }
}
