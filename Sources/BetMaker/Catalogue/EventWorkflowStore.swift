import RedisClient

/// The resulting workflow's transitions besides reporting (`BetStore.report`): an administrator
/// assigns an event to a trader, a trader takes it, an administrator voids it. Each is one script that
/// checks the state it starts from and the actor before it writes (docs/ARCHITECTURE.md, "The event
/// workflow").
public struct EventWorkflowStore: Sendable {
    public let redis: RedisClient
    public let keys: RedisKeys

    public init(redis: RedisClient, keys: RedisKeys) {
        self.redis = redis
        self.keys = keys
    }

    public enum Outcome: Sendable, Equatable {
        case changed
        /// The event was already so (the same trader, taken by the caller, void): nothing changed.
        case unchanged
        /// The transition does not start from the event's state: nothing changed.
        case wrongState(EventState)
        /// The event is assigned to another trader: nothing changed.
        case notYours(EventState)
        /// The trader named (assign) or the caller (take) is not an active trader: nothing changed.
        case notATrader
        /// The trader named (assign) or the caller (take) holds a bet on the event, placed before they
        /// got the role: nothing changed.
        case holdsBet
    }

    /// Assigns the event to the trader (from `open`, or re-assigns an `assigned` one).
    public func assign(eventID: String, traderID: Int) async throws -> Outcome {
        let isTrader = try await Self.isActiveTrader(traderID, redis: redis, keys: keys)
        return try await run(
            Scripts.assignEvent, keys: [keys.event(eventID), keys.eventBettors(eventID)],
            arguments: [String(traderID), String(currentMilliseconds()), isTrader ? "1" : "0"], changed: "assigned")
    }

    /// The trader takes the event into work (an open one, or one assigned to them), unless they hold a
    /// bet on it.
    public func take(eventID: String, traderID: Int) async throws -> Outcome {
        let isTrader = try await Self.isActiveTrader(traderID, redis: redis, keys: keys)
        return try await run(
            Scripts.takeEvent, keys: [keys.event(eventID), keys.eventBettors(eventID)],
            arguments: [String(traderID), String(currentMilliseconds()), isTrader ? "1" : "0"], changed: "taken")
    }

    /// Whether the user is an active trader, read just before a transition's script: the user's keys
    /// are in another slot than the event's, so the script cannot read them. A role taken away between
    /// this read and the script lets that one transition through as if it had come a moment earlier
    /// (docs/decisions/0302); what the event's own state and bettors say is still checked atomically.
    static func isActiveTrader(_ userID: Int, redis: RedisClient, keys: RedisKeys) async throws -> Bool {
        let fields = try await redis.hmget(keys.user(userID), ["role", "status"])
        return fields.count == 2 && fields[0] == Role.trader.rawValue && fields[1] == UserStatus.active.rawValue
    }

    public enum VoidOutcome: Sendable, Equatable {
        case changed
        /// Void already: nothing changed.
        case unchanged
        /// A result was reported: nothing changed.
        case resulted(EventState)
    }

    /// Voids the event (from any state before `resulted`) and queues its bets for voiding and refunds.
    /// An administrator's act: no trader is involved, so the outcomes are fewer than a transition's.
    public func void(eventID: String, reason: String) async throws -> VoidOutcome {
        let shard = keys.shard(of: eventID)
        let outcome = try await run(
            Scripts.voidEvent,
            keys: [
                keys.event(eventID), keys.eventsStream(shard: shard), keys.openCatalogue(shard: shard), keys.unsettledEvents(shard: shard),
            ],
            arguments: [String(currentMilliseconds()), eventID, reason], changed: "voided")
        switch outcome {
        case .changed: return .changed
        case .unchanged: return .unchanged
        case .wrongState(let state): return .resulted(state)
        case .notYours, .notATrader, .holdsBet: throw RedisError.unexpectedReply(command: "void_event", reply: "\(outcome)")
        }
    }

    private func run(_ script: RedisScript, keys: [String], arguments: [String], changed: String) async throws -> Outcome {
        let reply = try await redis.eval(script, keys: keys, arguments: arguments).strings(for: script.name)
        let state = reply.count > 1 ? EventState(rawValue: reply[1]) : nil
        switch (reply.first, state) {
        case (changed?, _): return .changed
        case ("unchanged"?, _): return .unchanged
        case ("wrong_state"?, let state?): return .wrongState(state)
        case ("not_yours"?, let state?): return .notYours(state)
        case ("not_a_trader"?, _): return .notATrader
        case ("holds_bet"?, _): return .holdsBet
        default: throw RedisError.unexpectedReply(command: script.name, reply: "\(reply)")
        }
    }
}
