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
    ///
    /// Three single-slot steps: the ids drawn on `{g}`; the user and the account written on the
    /// user's slot (`create_user`); the login, the users index, the account's owner and the activation
    /// token claimed on `{g}` (`claim_login`). A refused claim removes what the second step wrote. A
    /// crash before the claim leaves a user that no login names and no index lists: no one can log
    /// in as it, be paid to it or list it, and the invariant checker counts it as an orphan.
    public func register(login: String, passwordHash: String, role: Role = .player, active: Bool = false) async throws -> RegisterOutcome {
        let normalized = Login.normalized(login)
        for _ in 0..<5 {
            let ids = try await redis.pipeline([RedisCommand("INCR", keys.userIDs), RedisCommand("INCR", keys.accountIDs)])
            let userID = try ids[0].get().int(for: "INCR")
            let accountID = try ids[1].get().int(for: "INCR")
            let now = currentMilliseconds()
            let status = active ? UserStatus.active : .pending
            let created = try await redis.eval(
                Scripts.createUser, keys: [keys.user(userID), keys.accounts(userID)],
                arguments: [login, passwordHash, role.rawValue, status.rawValue, String(now), String(accountID)]
            ).strings(for: "create_user")
            switch created.first {
            case "created": break
            case "id_taken": continue  // A counter was reset: draw again.
            default: throw RedisError.unexpectedReply(command: "create_user", reply: "\(created)")
            }
            // 32 random bytes, base64url: the activation token sent to the user.
            let token = active ? nil : Base64URL.encode(randomBytes(32))
            var claimKeys = [keys.logins, keys.users, keys.accountOwners]
            var arguments = [String(userID), normalized, String(accountID)]
            if let token {
                claimKeys.append(keys.activation(sha256Hex(token)))
                arguments.append(String(activationTTL.inMilliseconds))
            }
            let reply = try await redis.eval(Scripts.claimLogin, keys: claimKeys, arguments: arguments).strings(for: "claim_login")
            if reply.first != "claimed" { _ = try await redis.del([keys.user(userID), keys.accounts(userID)]) }
            switch reply.first {
            case "claimed":
                let user = User(id: userID, login: login, role: role, status: status, createdAt: now, activatedAt: active ? now : nil)
                return .created(user, account: Account(id: accountID, balance: Money(cents: 0)), activationToken: token)
            case "login_taken":
                return .loginTaken(existingUserID: reply.count > 1 ? Int(reply[1]) ?? 0 : 0)
            case "account_taken":
                // A payment created an account with this id: draw again.
                continue
            default:
                throw RedisError.unexpectedReply(command: "claim_login", reply: "\(reply)")
            }
        }
        throw RedisError.unexpectedReply(command: "create_user", reply: "no free user or account id after five tries")
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

    /// The token is read on `{g}`, the user activated on their slot, then the token deleted, whatever
    /// the outcome: a crash before the deletion leaves a token whose next use answers `alreadyActive`
    /// (or `disabled`) and changes nothing, until it expires.
    public func activate(token: String) async throws -> ActivationOutcome {
        let tokenKey = keys.activation(sha256Hex(token))
        guard let userID = try await redis.get(tokenKey).flatMap({ Int($0) }) else { return .invalid }
        let reply = try await redis.eval(
            Scripts.activateUser, keys: [keys.user(userID)], arguments: [String(currentMilliseconds())]
        ).strings(for: "activate_user")
        _ = try await redis.del([tokenKey])
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
    /// either, in one step on the user's slot; nil leaves a field as it is. Only a registered user (in
    /// the users index) is changed.
    ///
    /// The traders index (`{g}`) may hold a user who is no trader, never lacks one: a user is added
    /// before the role is given and again after (a concurrent take may have removed them in between),
    /// and removed after it is taken, then added back if the role was given again meanwhile. A crash
    /// between the steps leaves an extra entry, which the index's readers skip (`traders`).
    public func update(userID: Int, active: Bool? = nil, role: Role? = nil) async throws -> UpdateOutcome {
        precondition(role != .admin, "administrators are not made over the API")
        guard try await redis.zscore(keys.users, String(userID)) != nil else { return .missing }
        let member = [(score: Double(userID), member: String(userID))]
        if role == .trader { _ = try await redis.zadd(keys.traders, member) }
        let reply = try await redis.eval(
            Scripts.updateUser, keys: [keys.user(userID)],
            arguments: [active.map { $0 ? "1" : "0" } ?? "", String(currentMilliseconds()), role?.rawValue ?? ""]
        ).strings(for: "update_user")
        let user = try await self.user(id: userID)
        if role != nil {
            if user?.role == .trader {
                _ = try await redis.zadd(keys.traders, member)
            } else {
                _ = try await redis.zrem(keys.traders, [String(userID)])
                // Given back meanwhile by another administrator: the index must not lack them.
                if try await self.user(id: userID)?.role == .trader { _ = try await redis.zadd(keys.traders, member) }
            }
        }
        switch reply.first {
        case "updated":
            guard let user else { return .missing }
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
}
