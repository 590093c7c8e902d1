import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// The settlement worker of one shard: reads reported results from the shard's events stream through a
/// consumer group and settles each event, at least once, harmlessly more than once. A worker process
/// runs one for every shard (`buildWorker`), each with its own blocking connection and maintenance.
///
/// - On start it first finishes its own pending entries (those it read before a crash or restart;
///   the consumer name is stable per host, see `WORKER_NAME`).
/// - It then reads new entries with a blocking read on a connection of its own.
/// - Every `claimInterval` it takes over entries idle longer than `claimMinIdle` in dead consumers'
///   hands (`XAUTOCLAIM`), trims what every consumer group is done with (one script), and queues
///   again the events reported more than `requeueAfter` ago that are still unsettled (their entry
///   was lost), at most once per `requeueAfter` each.
/// - While settling a big event it resets its entry's idle time between batches, so nobody claims
///   an entry that is still being worked on.
/// - An entry that cannot be settled (malformed, or delivered more than `maxDeliveries` times) goes
///   to the dead-letter stream, acknowledged in the same step. One given up on after too many
///   deliveries parks its event: it is not queued again until an administrator re-drives it.
/// - On graceful shutdown it stops after the current batch; the entry stays pending and the next
///   start resumes the event where it stopped.
public final class SettlementWorker: Service, Sendable {
    public struct Configuration: Sendable {
        public var group = SettlementQueue.consumerGroup
        public var consumer: String
        public var batchSize = 1000
        public var pauseBetweenBatches: Duration = .zero
        public var block: Duration = .seconds(5)
        public var claimInterval: Duration = .seconds(10)
        public var claimMinIdle: Duration = .seconds(60)
        public var maxDeliveries = 10
        /// An event reported this long ago and still unsettled is queued again (a new stream entry);
        /// well above `claimMinIdle + claimInterval`, so an entry a dead worker held is claimed first.
        public var requeueAfter: Duration = .seconds(120)
        public var deadLetterMaxLength = 100_000
        public var retryBackoff = Backoff.Policy(initial: .milliseconds(100), maximum: .seconds(5))

        public init(consumer: String) {
            self.consumer = consumer
        }
    }

    private let redis: RedisClient
    private let keys: RedisKeys
    private let shard: Int
    /// The shard's events stream.
    private let stream: String
    private let configuration: Configuration
    private let settler: Settler
    private let queue: SettlementQueue
    private let logger: Logger
    private let metrics: WorkerMetrics

    public init(redis: RedisClient, keys: RedisKeys, shard: Int, configuration: Configuration, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.shard = shard
        self.stream = keys.eventsStream(shard: shard)
        self.configuration = configuration
        self.settler = Settler(redis: redis, keys: keys, batchSize: configuration.batchSize, pause: configuration.pauseBetweenBatches)
        var queue = SettlementQueue(redis: redis, keys: keys, group: configuration.group)
        queue.deadLetterMaxLength = configuration.deadLetterMaxLength
        self.queue = queue
        var logger = logger
        logger[metadataKey: "shard"] = "\(shard)"
        self.logger = logger
        self.metrics = WorkerMetrics()
    }

    public func run() async throws {
        logger.info(
            "Settlement worker starting",
            metadata: ["consumer": "\(configuration.consumer)", "group": "\(configuration.group)", "stream": "\(stream)"])
        var backoff = Backoff(configuration.retryBackoff)
        var blocking: RedisConnection?
        var ownPendingDone = false
        var lastMaintenance = ContinuousClock.now - configuration.claimInterval
        defer { blocking?.closeNow() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !ownPendingDone {
                    try await redis.xgroupCreate(stream, group: configuration.group, startingAt: "0")
                    try await handleOwnPending()
                    ownPendingDone = true
                }
                if ContinuousClock.now - lastMaintenance >= configuration.claimInterval {
                    try await reclaimIdleEntries()
                    try await queue.trim(shard: shard)
                    try await requeueOverdue()
                    lastMaintenance = .now
                }
                if blocking?.isActive != true {
                    // On a cluster, on the node that serves the shard's stream.
                    blocking = try await redis.dedicatedConnection(forKey: stream)
                }
                let untilMaintenance = configuration.claimInterval - (ContinuousClock.now - lastMaintenance)
                let entries = try await cancelWhenGracefulShutdown { [blocking] in
                    try await blocking!.xreadgroup(
                        self.stream, group: self.configuration.group, consumer: self.configuration.consumer,
                        count: 16, block: max(.milliseconds(10), min(self.configuration.block, untilMaintenance)))
                }
                try await handle(entries)
                backoff.reset()
            } catch is CancellationError {
                break
            } catch Settler.Interruption.stopped {
                break
            } catch {
                // Redis unreachable or a transient failure: start over from the own pending entries, on a
                // new blocking connection (on a cluster the stream's slot may have moved: `MOVED`).
                ownPendingDone = false
                blocking?.closeNow()
                blocking = nil
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
                stream, group: configuration.group, consumer: configuration.consumer, id: after, count: 16)
            guard let last = entries.last else { return }
            try await handle(entries)
            after = last.id
        }
    }

    private func reclaimIdleEntries() async throws {
        var cursor = "0-0"
        repeat {
            let claimed = try await redis.xautoclaim(
                stream, group: configuration.group, consumer: configuration.consumer,
                minIdle: configuration.claimMinIdle, start: cursor, count: 16)
            if !claimed.entries.isEmpty {
                logger.info("Claimed idle entries", metadata: ["count": "\(claimed.entries.count)"])
            }
            // Entries trimmed away while pending cannot be settled from the stream; acknowledge them.
            if !claimed.deletedIDs.isEmpty {
                try await redis.xack(stream, group: configuration.group, ids: claimed.deletedIDs)
                logger.error("Pending entries were deleted from the stream", metadata: ["ids": "\(claimed.deletedIDs)"])
            }
            try await handle(claimed.entries)
            cursor = claimed.nextCursor
        } while cursor != "0-0" && !Task.isShuttingDownGracefully
    }

    /// Events whose result waits longer than `requeueAfter` get a new stream entry; the next read
    /// (this worker's or another's) settles them.
    private func requeueOverdue() async throws {
        let requeued = try await queue.requeueOverdue(shard: shard, after: configuration.requeueAfter)
        if !requeued.isEmpty {
            metrics.requeued.increment(by: requeued.count)
            logger.warning(
                "Re-queued events left unsettled",
                metadata: ["event_ids": "\(requeued)", "after_ms": "\(configuration.requeueAfter.inMilliseconds)"])
        }
    }

    // MARK: Handling

    private func handle(_ entries: [StreamEntry]) async throws {
        guard let first = entries.first, let last = entries.last else { return }
        let deliveries = try await redis.xpending(
            stream, group: configuration.group, start: first.id, end: last.id, count: entries.count + 16,
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
            try await deadLetter(
                entry, reason: "delivered \(deliveries) times without being settled", deliveries: deliveries, park: eventID)
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
                        self.stream, group: self.configuration.group, consumer: self.configuration.consumer, ids: [entry.id])
                    lastTouch = .now
                }
            }
        } catch let error as RedisError where error.serverCode == "RESULT_MISMATCH" {
            try await deadLetter(entry, reason: "\(error)", deliveries: deliveries)
            return
        }
        try await redis.xack(stream, group: configuration.group, ids: [entry.id])
        let duration = ContinuousClock.now - started
        metrics.recordSettled(report, reportedAt: fields["reported_at"].flatMap { Int64($0) })
        logger.info(
            "Event settled",
            metadata: [
                "event_id": "\(eventID)", "result": "\(result.rawValue)", "won": "\(report.won)", "lost": "\(report.lost)",
                "paid_out": "\(report.paidOut)", "void": "\(report.voided)", "refunded": "\(report.refunded)",
                "flipped": "\(report.flipped)", "batches": "\(report.batches)", "duration_ms": "\(duration.inMilliseconds)",
                "entry_id": "\(entry.id)",
            ])
    }

    /// `park`: the event of an entry given up on after too many deliveries, which waits for an
    /// administrator's re-drive instead of being queued again. A malformed entry or one contradicting
    /// the recorded result parks nothing: the event's own entry may still settle it.
    private func deadLetter(_ entry: StreamEntry, reason: String, deliveries: Int, park eventID: String? = nil) async throws {
        try await queue.deadLetter(entry, shard: shard, reason: reason, deliveries: deliveries, park: eventID)
        metrics.deadLettered.increment()
        logger.error(
            "Stream entry moved to the dead-letter stream",
            metadata: [
                "entry_id": "\(entry.id)", "reason": "\(reason)", "deliveries": "\(deliveries)", "fields": "\(entry.fields ?? [:])",
                "dead_letters": "\(keys.deadLetters(shard: shard))", "parked_event": "\(eventID ?? "")",
            ])
    }
}
