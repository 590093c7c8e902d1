import Metrics
import RedisClient

/// What the credits outboxes owe players (`RedisKeys.creditOutbox`: settlement's payouts and refunds,
/// and whatever other owners' outboxes the caller names), applied on the users' slots. An outbox is a
/// stream in its owner's slot, written in the step that settles; applying is a step of its own on the
/// user's slot (`Wallet.apply`), once per credit whatever the deliveries: readers use the consumer
/// group `credits` and acknowledge an entry only once it is applied.
public struct CreditOutbox: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// The outbox streams read: by default every shard's.
    public let streams: [String]
    public static let consumerGroup = "credits"

    let applied = Counter(label: "credits_applied_total")
    let refused = Counter(label: "credits_refused_total")

    public init(redis: RedisClient, keys: RedisKeys, streams: [String]? = nil) {
        self.redis = redis
        self.keys = keys
        self.streams = streams ?? keys.creditOutboxes
    }

    /// One outbox entry: the user it is owed to and the credit.
    public struct Entry: Sendable, Equatable {
        public let userID: Int
        public let credit: Wallet.Credit

        public init?(_ entry: StreamEntry) {
            guard let fields = entry.fields, let kind = fields["type"].flatMap(Wallet.Credit.Kind.init(rawValue:)),
                let userID = fields["user_id"].flatMap({ Int($0) }), let accountID = fields["account_id"].flatMap({ Int($0) }),
                let cents = fields["amount"].flatMap({ Int64($0) }), cents >= 0
            else { return nil }
            let reference: MoneyReference
            if let bet = fields["bet_id"] {
                reference = MoneyReference(kind: .bet, id: bet)
            } else if let trade = fields["trade_id"] {
                reference = MoneyReference(kind: .trade, id: trade)
            } else {
                return nil
            }
            self.userID = userID
            credit = Wallet.Credit(reference: reference, kind: kind, accountID: accountID, amount: Money(cents: cents))
        }
    }

    /// Applies these entries of `stream` and acknowledges the ones applied (now or before): one
    /// `apply_credits` per user, pipelined. An entry that is no credit, or whose user's account or
    /// ledger is damaged, stays pending, so it is tried again (and counted in `credits_refused_total`).
    /// Returns the ids acknowledged.
    @discardableResult
    public func apply(_ entries: [StreamEntry], from stream: String) async throws -> [String] {
        var byUser: [Int: [(entryID: String, credit: Wallet.Credit)]] = [:]
        for entry in entries {
            guard let parsed = Entry(entry) else {
                refused.increment()
                continue
            }
            byUser[parsed.userID, default: []].append((entry.id, parsed.credit))
        }
        guard !byUser.isEmpty else { return [] }
        let wallet = Wallet(redis: redis, keys: keys)
        let users = byUser.keys.sorted()
        let commands = users.map { wallet.applyCommand(byUser[$0]!.map(\.credit), userID: $0) }
        var replies = try await redis.pipeline(commands)
        if replies.contains(where: { if case .failure(let error) = $0 { error.serverCode == "NOSCRIPT" } else { false } }) {
            try await redis.load([Scripts.applyCredits])
            replies = try await redis.pipeline(commands)
        }
        var done: [String] = []
        for (user, reply) in zip(users, replies) {
            guard case .success = reply else {
                refused.increment(by: byUser[user]!.count)
                continue
            }
            done += byUser[user]!.map(\.entryID)
        }
        applied.increment(by: done.count)
        if !done.isEmpty { _ = try await redis.xack(stream, group: Self.consumerGroup, ids: done) }
        return done
    }

    /// Whether every credit in the outboxes was delivered and acknowledged (applied): for tests and
    /// operators waiting for the relay to catch up.
    public func isCaughtUp() async throws -> Bool {
        for stream in streams {
            guard let last = try await redis.xrevrange(stream, count: 1).first else { continue }
            let groups = try await redis.xinfoGroups(stream)
            guard let group = groups.first(where: { $0.name == Self.consumerGroup }), group.pending == 0,
                group.lastDeliveredID == last.id
            else { return false }
        }
        return true
    }

    /// Applies everything the outboxes hold now, as one consumer, until nothing is left but what
    /// cannot be applied: for tests and the benchmark, which settle in-process without a worker.
    /// Returns how many entries were applied.
    @discardableResult
    public func drain(consumer: String = "drain") async throws -> Int {
        var total = 0
        for stream in streams {
            _ = try await redis.xgroupCreate(stream, group: Self.consumerGroup, startingAt: "0")
            var id = "0"
            while true {
                let entries = try await redis.xreadgroup(stream, group: Self.consumerGroup, consumer: consumer, id: id, count: 500)
                if entries.isEmpty {
                    if id == ">" { break }
                    id = ">"
                    continue
                }
                let done = try await apply(entries, from: stream)
                total += done.count
                // Own pending entries that stay (refused) would be read again forever: go on with new ones.
                if id == "0" && done.count < entries.count { id = ">" }
            }
        }
        return total
    }
}
