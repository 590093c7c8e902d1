import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Applies what the credits outboxes owe players (`CreditOutbox`): one loop per outbox stream, reading
/// it through the consumer group `credits` with a blocking read on a connection of its own (to the
/// stream's node), its own pending entries first after a start, and every `claimInterval` the entries
/// idle longer than `claimMinIdle` in any consumer's hands (`XAUTOCLAIM`: a dead worker's, or its own
/// that could not be applied). Credits are grouped per user and applied with `apply_credits`; an entry
/// is acknowledged once applied. One that cannot be applied (a damaged account) stays pending and is
/// tried again at the next claim, logged and counted (`credits_refused_total`): no credit is dropped,
/// and one applied twice changes nothing.
///
/// The streams are a parameter: settlement's shard outboxes by default, and any other owner's
/// outboxes (a symbol's) the caller adds.
public struct CreditRelay: Service {
    public struct Configuration: Sendable {
        public var consumer: String
        public var block: Duration = .seconds(2)
        public var claimInterval: Duration = .seconds(10)
        public var claimMinIdle: Duration = .seconds(30)
        public var readCount = 500

        public init(consumer: String) {
            self.consumer = consumer
        }
    }

    let outbox: CreditOutbox
    let configuration: Configuration
    let logger: Logger

    public init(redis: RedisClient, keys: RedisKeys, streams: [String]? = nil, configuration: Configuration, logger: Logger) {
        self.outbox = CreditOutbox(redis: redis, keys: keys, streams: streams)
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        logger.info("Credit relay starting", metadata: ["consumer": "\(configuration.consumer)", "outboxes": "\(outbox.streams.count)"])
        await withTaskGroup(of: Void.self) { group in
            for stream in outbox.streams {
                group.addTask { await relay(stream) }
            }
        }
        logger.info("Credit relay stopped", metadata: ["consumer": "\(configuration.consumer)"])
    }

    private func relay(_ stream: String) async {
        let redis = outbox.redis
        let group = CreditOutbox.consumerGroup
        let consumer = configuration.consumer
        var backoff = Backoff(.init(initial: .milliseconds(100), maximum: .seconds(5)))
        var blocking: RedisConnection?
        var lastClaim = ContinuousClock.now - configuration.claimInterval
        var ownPendingDone = false
        defer { blocking?.closeNow() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !ownPendingDone {
                    _ = try await redis.xgroupCreate(stream, group: group, startingAt: "0")
                    // Entries read before a restart and never acknowledged, oldest first.
                    var after = "0"
                    while !Task.isShuttingDownGracefully {
                        let own = try await redis.xreadgroup(
                            stream, group: group, consumer: consumer, id: after, count: configuration.readCount)
                        guard let last = own.last else { break }
                        try await apply(own, stream)
                        after = last.id
                    }
                    ownPendingDone = true
                }
                if ContinuousClock.now - lastClaim >= configuration.claimInterval {
                    var cursor = "0-0"
                    repeat {
                        let claimed = try await redis.xautoclaim(
                            stream, group: group, consumer: consumer, minIdle: configuration.claimMinIdle, start: cursor,
                            count: configuration.readCount)
                        if !claimed.deletedIDs.isEmpty { _ = try await redis.xack(stream, group: group, ids: claimed.deletedIDs) }
                        try await apply(claimed.entries, stream)
                        cursor = claimed.nextCursor
                    } while cursor != "0-0" && !Task.isShuttingDownGracefully
                    _ = try await redis.eval(Scripts.trimStream, keys: [stream])
                    lastClaim = .now
                }
                if blocking?.isActive != true { blocking = try await redis.dedicatedConnection(forKey: stream) }
                let untilClaim = configuration.claimInterval - (ContinuousClock.now - lastClaim)
                let wait = max(.milliseconds(10), min(configuration.block, untilClaim))
                let entries = try await cancelWhenGracefulShutdown { [blocking, configuration] in
                    try await blocking!.xreadgroup(stream, group: group, consumer: consumer, count: configuration.readCount, block: wait)
                }
                try await apply(entries, stream)
                backoff.reset()
            } catch is CancellationError {
                break
            } catch {
                // A new blocking connection too: on a cluster the outbox's slot may have moved (`MOVED`).
                ownPendingDone = false
                blocking?.closeNow()
                blocking = nil
                let delay = backoff.next()
                logger.warning(
                    "Credit relay failed, retrying",
                    metadata: ["outbox": "\(stream)", "error": "\(error)", "retry_in_ms": "\(delay.inMilliseconds)"])
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    break
                }
            }
        }
    }

    private func apply(_ entries: [StreamEntry], _ stream: String) async throws {
        guard !entries.isEmpty else { return }
        let done = try await outbox.apply(entries, from: stream)
        if done.count < entries.count {
            let stuck = entries.map(\.id).filter { !done.contains($0) }
            logger.error(
                "Credits not applied: left pending and retried",
                metadata: ["outbox": "\(stream)", "entry_ids": "\(stuck.prefix(20))", "count": "\(stuck.count)"])
        }
    }
}
