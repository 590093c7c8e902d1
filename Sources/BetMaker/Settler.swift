import RedisClient

/// Settles one event: flips all its pending bets to the result's status in bounded batches, one
/// `settle_batch` call each, so Redis is never held for long however many bets the event has.
public struct Settler: Sendable {
    public let redis: any RedisCommandSender
    public let keys: RedisKeys
    /// Bets flipped by one script call. Bounded so a call stays short (and Lua's `unpack` stays under
    /// its argument limit).
    public let batchSize: Int
    /// Rest between batches, to leave Redis room for other clients; zero by default.
    public let pause: Duration

    public static let maximumBatchSize = 2000

    public init(redis: any RedisCommandSender, keys: RedisKeys, batchSize: Int, pause: Duration = .zero) {
        precondition((1...Self.maximumBatchSize).contains(batchSize), "batch size must be 1...\(Self.maximumBatchSize)")
        self.redis = redis
        self.keys = keys
        self.batchSize = batchSize
        self.pause = pause
    }

    public struct Report: Sendable, Equatable {
        public let eventID: String
        public let result: EventResult
        /// The event's counts once settled: all its bets, whoever flipped them.
        public let won: Int
        public let lost: Int
        /// Bets this call flipped (fewer than won + lost when settlement resumed or another worker helped).
        public let flipped: Int
        public let batches: Int
    }

    public enum Interruption: Error {
        /// `shouldStop` asked to stop between batches; what was done is kept and the rest resumes later.
        case stopped
    }

    /// Settles the event. `afterBatch` runs between batches (the worker keeps its stream entry claimed
    /// there) and may throw to stop, e.g. on shutdown; settlement resumes where it stopped.
    public func settle(
        eventID: String, result: EventResult, afterBatch: () async throws -> Void = {}
    ) async throws -> Report {
        let fixedKeys = [
            keys.event(eventID), keys.eventBets(eventID), keys.betsByStatus(.pending), keys.betsByStatus(result.settledStatus),
        ]
        let betKeyPrefix = keys.bet("")
        var position = -1
        var batch: [String] = []
        var flipped = 0
        var batches = 0
        while true {
            let reply = try await redis.eval(
                Scripts.settleBatch, keys: fixedKeys + batch.map(keys.bet),
                arguments: [result.rawValue, String(position), String(batchSize), String(currentMilliseconds()), betKeyPrefix]
            ).array(for: "settle_batch")
            guard reply.count >= 2, let state = reply[0].string, let newPosition = reply[1].string.flatMap(Int.init) else {
                throw RedisError.unexpectedReply(command: "settle_batch", reply: "\(reply)")
            }
            if !batch.isEmpty {
                batches += 1
                // A stale batch (someone else settled it) leaves the position where the other put it.
                if newPosition == position + batch.count { flipped += batch.count }
            }
            if state == "done" {
                guard reply.count == 4, let won = reply[2].string.flatMap(Int.init), let lost = reply[3].string.flatMap(Int.init) else {
                    throw RedisError.unexpectedReply(command: "settle_batch", reply: "\(reply)")
                }
                return Report(eventID: eventID, result: result, won: won, lost: lost, flipped: flipped, batches: batches)
            }
            position = newPosition
            batch = try reply.dropFirst(2).map { try $0.string(for: "settle_batch") }
            try await afterBatch()
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }
}
