import Logging
import RedisClient

/// The owner's side of a hold (an event's slot for a bet, a symbol's for a trade): whether the bet or
/// trade a hold was taken for exists; if it does not, the owner records it as abandoned in the same
/// step, so that a placement arriving later is refused and the hold can be voided safely.
public protocol HoldOwner: Sendable {
    func fate(of hold: Hold) async throws -> HoldFate
}

public enum HoldFate: Sendable, Equatable {
    /// The bet or trade exists: post the hold.
    case placed
    /// It does not and never will: void the hold.
    case abandoned
}

/// Bets' side: `abandon_bet` on the event's slot.
public struct BetHoldOwner: HoldOwner {
    public let redis: RedisClient
    public let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    public func fate(of hold: Hold) async throws -> HoldFate {
        guard let id = BetID(hold.reference.id) else {
            throw RedisError.unexpectedReply(command: "abandon_bet", reply: "hold \(hold.reference.id) names no bet")
        }
        let reply = try await redis.eval(
            Scripts.abandonBet, keys: [keys.bet(id), keys.abandonedBets(id.eventID)], arguments: [id.serial, String(hold.userID)]
        ).strings(for: "abandon_bet")
        switch reply.first {
        case "placed": return .placed
        // Another user's bet has the id: this one was never placed, and cannot be.
        case "abandoned", "id_taken": return .abandoned
        default: throw RedisError.unexpectedReply(command: "abandon_bet", reply: "\(reply)")
        }
    }
}

/// Finishes the two-phase transfers left half-done (a crash between steps, a reply lost): every pending
/// hold older than `maximumAge` is posted if its bet or trade exists on the owner's slot, and voided
/// (the stake goes back) if not, after the owner recorded it as abandoned. It reads every master's
/// holds (`SCAN` for `*:holds`), so it works the same on one node and on a cluster.
public struct HoldReconciler: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys
    /// How old a hold must be before it counts as left behind: longer than a placement takes.
    public let maximumAge: Duration
    /// Who answers for each kind of reference; a kind without an owner is left alone.
    public let owners: [MoneyReference.Kind: any HoldOwner]
    let logger: Logger

    public init(
        redis: RedisClient, keys: RedisKeys, maximumAge: Duration, owners: [MoneyReference.Kind: any HoldOwner]? = nil,
        logger: Logger = Logger(label: "reconciler")
    ) {
        self.redis = redis
        self.keys = keys
        self.maximumAge = maximumAge
        self.owners = owners ?? [.bet: BetHoldOwner(redis: redis, keys: keys), .trade: TradeHoldOwner(redis: redis, keys: keys)]
        self.logger = logger
    }

    public struct Pass: Sendable, Equatable {
        public var posted = 0
        public var voided = 0
        /// Holds that are young enough to be in flight still, or that failed this time (tried again later).
        public var left = 0
    }

    /// The users with pending holds, every master read.
    public func usersWithHolds() async throws -> [Int] {
        let pattern = keys.holdsPattern
        var users: Set<Int> = []
        for node in try await redis.masters() {
            let connection = try await redis.connection(to: node)
            var cursor = "0"
            repeat {
                let reply = try await connection.send(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "500")).array(for: "SCAN")
                guard reply.count == 2 else { throw RedisError.unexpectedReply(command: "SCAN", reply: "\(reply)") }
                cursor = try reply[0].string(for: "SCAN")
                for key in try reply[1].strings(for: "SCAN") {
                    // `<prefix>{u:<id>}:holds`: the id is between the tag's colon and its closing brace.
                    guard let close = key.lastIndex(of: "}"), let colon = key[..<close].lastIndex(of: ":"),
                        let user = Int(key[key.index(after: colon)..<close])
                    else { continue }
                    users.insert(user)
                }
            } while cursor != "0"
        }
        return users.sorted()
    }

    /// One pass over every pending hold.
    @discardableResult
    public func reconcile() async throws -> Pass {
        let wallet = Wallet(redis: redis, keys: keys)
        let cutoff = currentMilliseconds() - maximumAge.inMilliseconds
        var pass = Pass()
        for user in try await usersWithHolds() {
            for hold in try await wallet.holds(userID: user) {
                guard hold.createdAt <= cutoff, let owner = owners[hold.reference.kind] else {
                    pass.left += 1
                    continue
                }
                do {
                    let fate = try await owner.fate(of: hold)
                    switch try await wallet.release(hold.reference, userID: user, fate == .placed ? .post : .void) {
                    case .posted: pass.posted += 1
                    case .voided: pass.voided += 1
                    case .alreadyReleased, .noHold: break
                    }
                    logger.notice(
                        "Hold reconciled",
                        metadata: ["reference": "\(hold.reference)", "user_id": "\(user)", "fate": "\(fate)", "amount": "\(hold.amount)"])
                } catch {
                    pass.left += 1
                    logger.error(
                        "Hold not reconciled; tried again next pass", metadata: ["reference": "\(hold.reference)", "error": "\(error)"])
                }
            }
        }
        return pass
    }
}
