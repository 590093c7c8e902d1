import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// The settlement worker: reads reported results from the events stream through a consumer group and
/// settles each event, at least once, harmlessly more than once.
///
/// - On start it first finishes its own pending entries (those it read before a crash or restart;
///   the consumer name is stable per host, see `WORKER_NAME`).
/// - It then reads new entries with a blocking read on a connection of its own.
/// - Every `claimInterval` it takes over entries idle longer than `claimMinIdle` in dead consumers'
///   hands (`XAUTOCLAIM`), and trims entries every consumer has acknowledged.
/// - While settling a big event it resets its entry's idle time between batches, so nobody claims
///   an entry that is still being worked on.
/// - An entry that cannot be settled (malformed, or delivered more than `maxDeliveries` times) goes
///   to the dead-letter stream, acknowledged in the same step.
/// - On graceful shutdown it stops after the current batch; the entry stays pending and the next
///   start resumes the event where it stopped.
public final class SettlementWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var group = "settlement"
        public var consumer: String
        public var batchSize = 1000
        public var pauseBetweenBatches: Duration = .zero
        public var block: Duration = .seconds(5)
        public var claimInterval: Duration = .seconds(10)
        public var claimMinIdle: Duration = .seconds(60)
        public var maxDeliveries = 10
        public var deadLetterMaxLength = 100_000
        public var retryBackoff = Backoff.Policy(initial: .milliseconds(100), maximum: .seconds(5))

        public init(consumer: String) {
            self.consumer = consumer
        }
    }

    private let redis: RedisClient
    private let keys: RedisKeys
    private let configuration: Configuration
    private let settler: Settler
    private let logger: Logger
    private let metrics: WorkerMetrics

    public init(redis: RedisClient, keys: RedisKeys, configuration: Configuration, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.configuration = configuration
        self.settler = Settler(redis: redis, keys: keys, batchSize: configuration.batchSize, pause: configuration.pauseBetweenBatches)
        self.logger = logger
        self.metrics = WorkerMetrics()
    }

    public func run() async throws {
        logger.info(
            "Settlement worker starting",
            metadata: ["consumer": "\(configuration.consumer)", "group": "\(configuration.group)", "stream": "\(keys.eventsStream)"])
        var backoff = Backoff(configuration.retryBackoff)
        var blocking: RedisConnection?
        var ownPendingDone = false
        var lastMaintenance = ContinuousClock.now - configuration.claimInterval
        defer { blocking?.closeNow() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !ownPendingDone {
                    try await redis.xgroupCreate(keys.eventsStream, group: configuration.group, startingAt: "0")
                    try await handleOwnPending()
                    ownPendingDone = true
                }
                if ContinuousClock.now - lastMaintenance >= configuration.claimInterval {
                    try await reclaimIdleEntries()
                    try await trimAcknowledged()
                    lastMaintenance = .now
                }
                if blocking?.isActive != true {
                    blocking = try await redis.dedicatedConnection()
                }
                let untilMaintenance = configuration.claimInterval - (ContinuousClock.now - lastMaintenance)
                let entries = try await cancelWhenGracefulShutdown { [blocking] in
                    try await blocking!.xreadgroup(
                        self.keys.eventsStream, group: self.configuration.group, consumer: self.configuration.consumer,
                        count: 16, block: max(.milliseconds(10), min(self.configuration.block, untilMaintenance)))
                }
                try await handle(entries)
                backoff.reset()
            } catch is CancellationError {
                break
            } catch Settler.Interruption.stopped {
                break
            } catch {
                // Redis unreachable or a transient failure: start over from the own pending entries.
                ownPendingDone = false
                let delay = backoff.next()
                logger.warning(
                    "Settlement loop failed, retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.inMilliseconds)"])
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    break
                }
            }
        }
        logger.info("Settlement worker stopped", metadata: ["consumer": "\(configuration.consumer)"])
    }

    // MARK: Reading

    /// Entries this consumer read before and never acknowledged, oldest first.
    private func handleOwnPending() async throws {
        var after = "0"
        while !Task.isShuttingDownGracefully {
            let entries = try await redis.xreadgroup(
                keys.eventsStream, group: configuration.group, consumer: configuration.consumer, id: after, count: 16)
            guard let last = entries.last else { return }
            try await handle(entries)
            after = last.id
        }
    }

    private func reclaimIdleEntries() async throws {
        var cursor = "0-0"
        repeat {
            let claimed = try await redis.xautoclaim(
                keys.eventsStream, group: configuration.group, consumer: configuration.consumer,
                minIdle: configuration.claimMinIdle, start: cursor, count: 16)
            if !claimed.entries.isEmpty {
                logger.info("Claimed idle entries", metadata: ["count": "\(claimed.entries.count)"])
            }
            // Entries trimmed away while pending cannot be settled from the stream; acknowledge them.
            if !claimed.deletedIDs.isEmpty {
                try await redis.xack(keys.eventsStream, group: configuration.group, ids: claimed.deletedIDs)
                logger.error("Pending entries were deleted from the stream", metadata: ["ids": "\(claimed.deletedIDs)"])
            }
            try await handle(claimed.entries)
            cursor = claimed.nextCursor
        } while cursor != "0-0" && !Task.isShuttingDownGracefully
    }

    /// Drops the entries every consumer has acknowledged: those older than the oldest pending one, or
    /// up to the last delivered one when nothing is pending. Unacknowledged entries are never trimmed.
    private func trimAcknowledged() async throws {
        let summary = try await redis.xpendingSummary(keys.eventsStream, group: configuration.group)
        let groups = try await redis.xinfoGroups(keys.eventsStream)
        let lowestOfGroups = groups.map(\.lastDeliveredID).min(by: StreamID.isOrderedBefore)
        guard let bound = summary.lowestID ?? lowestOfGroups, bound != "0-0" else { return }
        try await redis.xtrim(keys.eventsStream, minID: bound)
    }

    // MARK: Handling

    private func handle(_ entries: [StreamEntry]) async throws {
        guard let first = entries.first, let last = entries.last else { return }
        let deliveries = try await redis.xpending(
            keys.eventsStream, group: configuration.group, start: first.id, end: last.id, count: entries.count + 16,
            consumer: configuration.consumer)
        let deliveriesByID = Dictionary(deliveries.map { ($0.id, $0.deliveries) }, uniquingKeysWith: max)
        for entry in entries {
            try await handle(entry, deliveries: deliveriesByID[entry.id] ?? 1)
        }
    }

    private func handle(_ entry: StreamEntry, deliveries: Int) async throws {
        guard let fields = entry.fields, let eventID = fields["event_id"], EventID.isValid(eventID),
            let result = fields["result"].flatMap(EventResult.init(rawValue:))
        else {
            try await deadLetter(entry, reason: "malformed entry", deliveries: deliveries)
            return
        }
        if deliveries > configuration.maxDeliveries {
            try await deadLetter(entry, reason: "delivered \(deliveries) times without being settled", deliveries: deliveries)
            return
        }
        let started = ContinuousClock.now
        var lastTouch = started
        let report: Settler.Report
        do {
            report = try await settler.settle(eventID: eventID, result: result) {
                if Task.isShuttingDownGracefully { throw Settler.Interruption.stopped }
                // Keep the entry ours while a long settlement goes on.
                if ContinuousClock.now - lastTouch > self.configuration.claimMinIdle / 4 {
                    try await self.redis.xclaimTouch(
                        self.keys.eventsStream, group: self.configuration.group, consumer: self.configuration.consumer, ids: [entry.id])
                    lastTouch = .now
                }
            }
        } catch let error as RedisError where error.serverCode == "RESULT_MISMATCH" {
            try await deadLetter(entry, reason: "\(error)", deliveries: deliveries)
            return
        }
        try await redis.xack(keys.eventsStream, group: configuration.group, ids: [entry.id])
        let duration = ContinuousClock.now - started
        metrics.recordSettled(report, reportedAt: fields["reported_at"].flatMap { Int64($0) })
        logger.info(
            "Event settled",
            metadata: [
                "event_id": "\(eventID)", "result": "\(result.rawValue)", "won": "\(report.won)", "lost": "\(report.lost)",
                "paid_out": "\(report.paidOut)",
                "flipped": "\(report.flipped)", "batches": "\(report.batches)", "duration_ms": "\(duration.inMilliseconds)",
                "entry_id": "\(entry.id)",
            ])
    }

    private func deadLetter(_ entry: StreamEntry, reason: String, deliveries: Int) async throws {
        var arguments = [configuration.group, entry.id, reason, String(deliveries), String(configuration.deadLetterMaxLength)]
        for (field, value) in (entry.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            arguments += [field, value]
        }
        try await redis.eval(Scripts.deadLetter, keys: [keys.eventsStream, keys.deadLetters], arguments: arguments)
        metrics.deadLettered.increment()
        logger.error(
            "Stream entry moved to the dead-letter stream",
            metadata: [
                "entry_id": "\(entry.id)", "reason": "\(reason)", "deliveries": "\(deliveries)", "fields": "\(entry.fields ?? [:])",
                "dead_letters": "\(keys.deadLetters)",
            ])
    }
}

/// Stream entry ids (`<milliseconds>-<sequence>`) compared as numbers, not text.
enum StreamID {
    static func isOrderedBefore(_ left: String, _ right: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let pieces = id.split(separator: "-")
            return (pieces.first.flatMap { UInt64($0) } ?? 0, pieces.count > 1 ? UInt64(pieces[1]) ?? 0 : 0)
        }
        return parts(left) < parts(right)
    }
}

struct WorkerMetrics: Sendable {
    let won = Counter(label: "bets_settled_total", dimensions: [("outcome", "won")])
    let lost = Counter(label: "bets_settled_total", dimensions: [("outcome", "lost")])
    let events = Counter(label: "events_settled_total")
    let lag = Timer(label: "settlement_lag_seconds")
    let deadLettered = Counter(label: "stream_dead_lettered_total")

    func recordSettled(_ report: Settler.Report, reportedAt: Int64?) {
        events.increment()
        if report.result == .win { won.increment(by: report.flipped) } else { lost.increment(by: report.flipped) }
        if let reportedAt { lag.recordMilliseconds(max(0, currentMilliseconds() - reportedAt)) }
    }
}
