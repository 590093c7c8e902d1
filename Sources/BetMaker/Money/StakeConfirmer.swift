import Logging
import RedisClient

/// Repairs a bet whose stake vanished (docs/decisions/0314): replication is asynchronous, so a failover
/// of a user's master can lose a `hold_stake` write while the bet stands on its event's slot. Every bet
/// with money is listed in its shard's unconfirmed stakes (`place_wallet_bet`); once an entry is older
/// than `maximumAge`, the user's slot is asked with `confirm_stake` (a pending hold is posted, a lost one
/// taken again) and the entry leaves the set. A stake the account no longer covers stays listed: the
/// invariant checker reports it, and an operator decides.
public struct StakeConfirmer: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    public let maximumAge: Duration
    /// Entries read per round of one shard.
    public let batchSize: Int
    let logger: Logger

    public init(redis: RedisClient, keys: RedisKeys, maximumAge: Duration, batchSize: Int = 200, logger: Logger = Logger(label: "stakes")) {
        self.redis = redis
        self.keys = keys
        self.maximumAge = maximumAge
        self.batchSize = batchSize
        self.logger = logger
    }

    public struct Pass: Sendable, Equatable {
        /// Stakes found on the user's slot (posted before, or a pending hold posted now).
        public var confirmed = 0
        /// Stakes whose hold had vanished, taken again.
        public var restaked = 0
        /// Stakes that could not be repaired (the account does not cover it, the hold was voided): left listed.
        public var lost = 0

        public init(confirmed: Int = 0, restaked: Int = 0, lost: Int = 0) {
            self.confirmed = confirmed
            self.restaked = restaked
            self.lost = lost
        }
    }

    /// One pass over every shard's entries older than `maximumAge`.
    @discardableResult
    public func confirm() async throws -> Pass {
        let cutoff = currentMilliseconds() - maximumAge.inMilliseconds
        var pass = Pass()
        for shard in keys.allShards {
            let set = keys.unconfirmedStakes(shard: shard)
            var skipped = 0
            while true {
                let ids = try await redis.send(
                    RedisCommand("ZRANGEBYSCORE", set, "-inf", String(cutoff), "LIMIT", String(skipped), String(batchSize))
                ).strings(for: "ZRANGEBYSCORE")
                if ids.isEmpty { break }
                var done: [String] = []
                for member in ids {
                    if try await confirm(member, &pass) { done.append(member) } else { skipped += 1 }
                }
                if !done.isEmpty { try await redis.zrem(set, done) }
            }
        }
        return pass
    }

    /// Whether the entry is finished with (it may leave the set).
    private func confirm(_ member: String, _ pass: inout Pass) async throws -> Bool {
        guard let id = BetID(member) else {
            logger.error("Unconfirmed stake names no bet; dropped", metadata: ["member": "\(member)"])
            return true
        }
        let fields = try await redis.send(RedisCommand("HMGET", keys.bet(id), "user_id", "amount", "account_id"))
            .optionalStrings(for: "HMGET")
        // No bet (deleted, or lost with this entry in a failover of its event's master): no stake to confirm.
        guard fields.count == 3, let user = fields[0].flatMap({ Int($0) }), let amount = fields[1], let account = fields[2] else {
            return true
        }
        let reply = try await redis.eval(
            Scripts.confirmStake,
            keys: [keys.holds(user), keys.releasedHolds(user), keys.accounts(user), keys.ledger(user), keys.userBets(user)],
            arguments: [member, amount, account]
        ).strings(for: "confirm_stake")
        switch (reply.first, reply.count > 1 ? reply[1] : "") {
        case ("posted", _), ("released", "post"):
            pass.confirmed += 1
            return true
        case ("restaked", let balance):
            pass.restaked += 1
            logger.warning(
                "Stake of a bet whose hold vanished taken again",
                metadata: ["bet_id": "\(member)", "user_id": "\(user)", "amount": "\(amount)", "balance": "\(balance)"])
            return true
        default:
            pass.lost += 1
            logger.error(
                "Stake of a bet is lost and cannot be taken again; left for an operator",
                metadata: ["bet_id": "\(member)", "user_id": "\(user)", "reply": "\(reply)"])
            return false
        }
    }
}
