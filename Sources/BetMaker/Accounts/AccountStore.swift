import RedisClient

/// Users, their accounts and ledgers, and payments, in Redis. Every change of money is one script
/// that also writes the ledger entry, so a balance always equals the sum of its account's entries.
public struct AccountStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let activationTTL: Duration

    public init(redis: RedisClient, keys: RedisKeys, activationTTL: Duration = .seconds(48 * 3600)) {
        self.redis = redis
        self.keys = keys
        self.activationTTL = activationTTL
    }

    // MARK: Users

    public enum RegisterOutcome: Sendable, Equatable {
        /// `activationToken` is nil for a user created active.
        case created(User, account: Account, activationToken: String?)
        case loginTaken(existingUserID: Int)
    }

    /// Creates a user with a first, empty account. A user created inactive gets an activation token,
    /// of which Redis keeps only the digest.
    public func register(login: String, passwordHash: String, role: Role = .player, active: Bool = false) async throws -> RegisterOutcome {
        let normalized = Login.normalized(login)
        for _ in 0..<5 {
            let userID = try await redis.incr(keys.userIDs)
            let accountID = try await redis.incr(keys.accountIDs)
            let now = currentMilliseconds()
            // 32 random bytes, base64url: the activation token sent to the user.
            let token = active ? nil : Base64URL.encode(randomBytes(32))
            var scriptKeys = [keys.logins, keys.user(userID), keys.users, keys.accounts(userID), keys.accountOwners]
            var arguments = [
                String(userID), normalized, login, passwordHash, role.rawValue, (active ? UserStatus.active : .pending).rawValue,
                String(now),
                String(accountID),
            ]
            if let token {
                scriptKeys.append(keys.activation(sha256Hex(token)))
                arguments.append(String(activationTTL.inMilliseconds))
            }
            let reply = try await redis.eval(Scripts.registerUser, keys: scriptKeys, arguments: arguments).strings(for: "register_user")
            switch reply.first {
            case "created":
                let user = User(
                    id: userID, login: login, role: role, status: active ? .active : .pending, createdAt: now,
                    activatedAt: active ? now : nil)
                return .created(user, account: Account(id: accountID, balance: Money(cents: 0)), activationToken: token)
            case "login_taken":
                return .loginTaken(existingUserID: reply.count > 1 ? Int(reply[1]) ?? 0 : 0)
            case "id_taken", "account_taken":
                // A payment created an account with this id, or a counter was reset: draw again.
                continue
            default:
                throw RedisError.unexpectedReply(command: "register_user", reply: "\(reply)")
            }
        }
        throw RedisError.unexpectedReply(command: "register_user", reply: "no free user or account id after five tries")
    }

    /// True when a user has this login, in any case.
    public func isLoginTaken(_ login: String) async throws -> Bool {
        try await redis.hget(keys.logins, Login.normalized(login)) != nil
    }

    public func user(id: Int) async throws -> User? {
        User(id: id, fields: try await redis.hmget(keys.user(id), User.storedFields))
    }

    /// The user and the bcrypt hash of their password, for logging in.
    public func credentials(login: String) async throws -> (user: User, passwordHash: String)? {
        guard let id = try await redis.hget(keys.logins, Login.normalized(login)).flatMap({ Int($0) }) else { return nil }
        let fields = try await redis.hmget(keys.user(id), User.storedFields + ["password"])
        guard let user = User(id: id, fields: Array(fields.prefix(User.storedFields.count))), let hash = fields.last ?? nil else {
            return nil
        }
        return (user, hash)
    }

    public enum ActivationOutcome: Sendable, Equatable {
        case activated(User)
        case alreadyActive
        case disabled
        /// Unknown, used or expired.
        case invalid
    }

    public func activate(token: String) async throws -> ActivationOutcome {
        let tokenKey = keys.activation(sha256Hex(token))
        guard let userID = try await redis.get(tokenKey).flatMap({ Int($0) }) else { return .invalid }
        let reply = try await redis.eval(
            Scripts.activateUser, keys: [tokenKey, keys.user(userID)], arguments: [String(userID), String(currentMilliseconds())]
        ).strings(for: "activate_user")
        switch reply.first {
        case "activated":
            guard let user = try await user(id: userID) else { return .invalid }
            return .activated(user)
        case "already_active": return .alreadyActive
        case "disabled": return .disabled
        case "invalid": return .invalid
        default: throw RedisError.unexpectedReply(command: "activate_user", reply: "\(reply)")
        }
    }

    public enum UpdateOutcome: Sendable, Equatable {
        case updated(User)
        case missing
        /// A role change was asked for an administrator: nothing changed.
        case administratorRole
    }

    /// Enables or disables a user and gives or takes the trader role (`.trader` or `.player`), both or
    /// either, in one step; nil leaves a field as it is.
    public func update(userID: Int, active: Bool? = nil, role: Role? = nil) async throws -> UpdateOutcome {
        precondition(role != .admin, "administrators are not made over the API")
        let reply = try await redis.eval(
            Scripts.updateUser, keys: [keys.user(userID), keys.traders],
            arguments: [active.map { $0 ? "1" : "0" } ?? "", String(currentMilliseconds()), role?.rawValue ?? "", String(userID)]
        ).strings(for: "update_user")
        switch reply.first {
        case "updated":
            guard let user = try await user(id: userID) else { return .missing }
            return .updated(user)
        case "missing": return .missing
        case "admin_role": return .administratorRole
        default: throw RedisError.unexpectedReply(command: "update_user", reply: "\(reply)")
        }
    }

    /// Enables or disables a user; nil when there is no such user.
    public func setActive(userID: Int, _ active: Bool) async throws -> User? {
        guard case .updated(let user) = try await update(userID: userID, active: active) else { return nil }
        return user
    }

    /// Users by id, `limit` at most, after user `cursor`; with their accounts.
    public func users(limit: Int, after cursor: Int?) async throws -> (users: [(User, [Account])], nextCursor: Int?) {
        let ids = try await redis.zrangeByScore(
            keys.users, min: cursor.map { .exclusive(Double($0)) } ?? .negativeInfinity, max: .positiveInfinity, limit: (0, limit + 1)
        ).compactMap { Int($0.member) }
        let page = Array(ids.prefix(limit))
        var commands: [RedisCommand] = []
        for id in page {
            commands.append(RedisCommand("HMGET", arguments: [keys.user(id)] + User.storedFields))
            commands.append(RedisCommand("HGETALL", keys.accounts(id)))
        }
        let replies = try await redis.pipeline(commands)
        var users: [(User, [Account])] = []
        for (index, id) in page.enumerated() {
            guard let user = User(id: id, fields: try replies[2 * index].get().optionalStrings(for: "HMGET")) else { continue }
            users.append((user, Self.accounts(try replies[2 * index + 1].get().stringMap(for: "HGETALL"))))
        }
        return (users, ids.count > limit ? page.last : nil)
    }

    // MARK: Accounts and the ledger

    /// The user's accounts, by id.
    public func accounts(userID: Int) async throws -> [Account] {
        Self.accounts(try await redis.hgetall(keys.accounts(userID)))
    }

    static func accounts(_ balances: [String: String]) -> [Account] {
        balances.compactMap { id, balance in
            guard let id = Int(id), let cents = Int64(balance) else { return nil }
            return Account(id: id, balance: Money(cents: cents))
        }.sorted { $0.id < $1.id }
    }

    /// True when `cursor` is a ledger entry id a listing could have handed out: `<ms>-<seq>`, each
    /// part 1 to 19 digits (so it fits 64 bits), and not `0-0`: the page below it is read with the
    /// exclusive bound `(<cursor>`, which Redis refuses for `0-0`, as nothing is below it.
    public static func isValidLedgerCursor(_ cursor: String) -> Bool {
        StreamID.isValid(cursor)
    }

    /// The user's transactions newest first, of one account or all, `limit` at most, older than
    /// `cursor` (an entry id). For one account, at most `NewestFirstPages.maximumWindows` windows are read,
    /// so the page may be short while its cursor goes on.
    public func transactions(
        userID: Int, accountID: Int? = nil, limit: Int, before cursor: String?
    ) async throws -> (transactions: [Transaction], nextCursor: String?) {
        var end = cursor.map { "(" + $0 } ?? "+"
        var found: [Transaction] = []
        var next: String?
        for _ in 0..<NewestFirstPages.maximumWindows {
            let entries = try await redis.xrevrange(keys.ledger(userID), end: end, count: limit - found.count + 1)
            let window = entries.prefix(limit - found.count)
            found += window.compactMap(Transaction.init).filter { accountID == nil || $0.accountID == accountID }
            next = entries.count > window.count ? window.last?.id : nil
            guard let last = next, found.count < limit else { break }
            end = "(" + last
        }
        return (found, next)
    }

    // MARK: Payments

    public enum DepositOutcome: Sendable, Equatable {
        case credited(Payment)
        /// This transaction id was credited before, with the same user, account and amount.
        case replayed(Payment)
        /// This transaction id was credited before with another user, account or amount.
        case conflict(Payment)
        /// The delivery's signature was accepted before for another transaction (this one's values are
        /// another's with digits moved between them): nothing was credited.
        case signatureReused(transactionID: String)
        case noSuchUser
        case foreignAccount
    }

    /// Credits a deposit once per transaction id. `signature`, the provider's (any case), is recorded
    /// with the transaction and refused for any other (`Scripts.deposit`); the seed's own deposit has none.
    public func deposit(
        transactionID: String, userID: Int, accountID: Int, amount: Money, signature: String? = nil
    ) async throws -> DepositOutcome {
        var scriptKeys = [
            keys.payment(transactionID), keys.accountOwners, keys.user(userID), keys.accounts(userID), keys.ledger(userID), keys.accountIDs,
        ]
        if let signature { scriptKeys.append(keys.paymentSignature(signature.lowercased())) }
        let reply = try await redis.eval(
            Scripts.deposit, keys: scriptKeys,
            arguments: [transactionID, String(userID), String(accountID), String(amount.cents), String(currentMilliseconds())]
        ).strings(for: "deposit")
        func payment() throws -> Payment {
            guard let payment = Payment(transactionID: transactionID, fields: reply.dropFirst()) else {
                throw RedisError.unexpectedReply(command: "deposit", reply: "\(reply)")
            }
            return payment
        }
        switch reply.first {
        case "credited": return .credited(try payment())
        case "replayed": return .replayed(try payment())
        case "conflict": return .conflict(try payment())
        case "signature_reused" where reply.count == 2: return .signatureReused(transactionID: reply[1])
        case "no_user": return .noSuchUser
        case "foreign_account": return .foreignAccount
        default: throw RedisError.unexpectedReply(command: "deposit", reply: "\(reply)")
        }
    }
}
