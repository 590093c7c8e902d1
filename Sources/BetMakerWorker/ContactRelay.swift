import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Delivers the ESP outbox: reads every shard's stream through the consumer group `esp` (one loop a
/// shard, each with its own blocking connection to the shard's node), the same way the settlement
/// worker reads results (at least once), and creates or erases each contact at the ESP.
///
/// - On start it first handles its own pending messages (read before a crash), then new ones with a
///   blocking read on a connection of its own; every `claimInterval` it takes over messages idle
///   longer than `claimMinIdle` in dead consumers' hands (`XAUTOCLAIM`).
/// - A message is acknowledged only after the ESP answered, in the script that records the answer.
///   A worker killed in between leaves it pending, and it is delivered again: creates are idempotent
///   `PUT`s and erasures count a 404 as done, so a repeated call changes nothing at the ESP.
/// - A timeout, a 5xx or a 429 moves the message to the retry set (acknowledged in the same step),
///   due after an exponential backoff, or after `Retry-After` when that is longer; each pass
///   puts the due ones back into the stream. So a failing contact holds up no other message.
/// - After `maxAttempts` calls, or at once on an answer no retry can change (400, 401), the message
///   goes to the dead-letter stream and the contact shows `failed` with the reason.
/// - Messages of one contact are handled in stream order, different contacts concurrently.
public final class ContactRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var group = ContactOutbox.consumerGroup
        public var consumer: String
        /// The longest blocking read; also how late a due retry may be put back into the stream.
        public var block: Duration = .milliseconds(500)
        public var claimInterval: Duration = .seconds(10)
        public var claimMinIdle: Duration = .seconds(60)
        public var maxAttempts = 8
        public var retryInitial: Duration = .seconds(1)
        public var retryMaximum: Duration = .seconds(300)
        /// Messages read at once (and their contacts handled concurrently).
        public var readCount = 32
        public var deadLetterMaxLength = 100_000

        public init(consumer: String) {
            self.consumer = consumer
        }
    }

    private let outbox: ContactOutbox
    private let esp: any EmailServiceProvider
    private let configuration: Configuration
    private let logger: Logger
    private let delivered = Counter(label: "esp_outbox_delivered_total")
    private let retried = Counter(label: "esp_outbox_retried_total")
    private let deadLettered = Counter(label: "esp_outbox_dead_lettered_total")

    public init(redis: RedisClient, keys: RedisKeys, esp: any EmailServiceProvider, configuration: Configuration, logger: Logger) {
        var outbox = ContactOutbox(redis: redis, keys: keys, group: configuration.group)
        outbox.deadLetterMaxLength = configuration.deadLetterMaxLength
        self.outbox = outbox
        self.esp = esp
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for shard in 0..<outbox.keys.shards {
                group.addTask { try await self.run(shard: shard) }
            }
            try await group.waitForAll()
        }
        logger.info("ESP outbox relay stopped", metadata: ["consumer": "\(configuration.consumer)"])
    }

    private func run(shard: Int) async throws {
        let stream = outbox.keys.contactOutbox(shard: shard)
        logger.info(
            "ESP outbox relay starting",
            metadata: ["consumer": "\(configuration.consumer)", "group": "\(configuration.group)", "stream": "\(stream)"])
        var backoff = Backoff(.init(initial: .milliseconds(100), maximum: .seconds(5)))
        var blocking: RedisConnection?
        var ownPendingDone = false
        var lastClaim = ContinuousClock.now - configuration.claimInterval
        defer { blocking?.closeNow() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !ownPendingDone {
                    try await outbox.redis.xgroupCreate(stream, group: configuration.group, startingAt: "0")
                    try await handleOwnPending(shard: shard)
                    ownPendingDone = true
                }
                if ContinuousClock.now - lastClaim >= configuration.claimInterval {
                    try await reclaimIdleMessages(shard: shard)
                    lastClaim = .now
                }
                try await outbox.releaseDue(shard: shard)
                if blocking?.isActive != true {
                    blocking = try await outbox.redis.dedicatedConnection(forKey: stream)
                }
                let untilClaim = configuration.claimInterval - (ContinuousClock.now - lastClaim)
                let entries = try await cancelWhenGracefulShutdown { [blocking, configuration] in
                    try await blocking!.xreadgroup(
                        stream, group: configuration.group, consumer: configuration.consumer, count: configuration.readCount,
                        block: max(.milliseconds(10), min(configuration.block, untilClaim)))
                }
                try await handle(entries, shard: shard)
                backoff.reset()
            } catch is CancellationError {
                break
            } catch {
                // Redis unreachable or a transient failure (the shard's slot moved): start over from the
                // own pending messages, on a new connection.
                ownPendingDone = false
                blocking?.closeNow()
                blocking = nil
                let delay = backoff.next()
                logger.warning(
                    "ESP outbox relay failed, retrying", metadata: ["error": "\(error)", "retry_in_ms": "\(delay.inMilliseconds)"])
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    break
                }
            }
        }
    }

    // MARK: Reading

    private func handleOwnPending(shard: Int) async throws {
        var after = "0"
        while !Task.isShuttingDownGracefully {
            let entries = try await outbox.redis.xreadgroup(
                outbox.keys.contactOutbox(shard: shard), group: configuration.group, consumer: configuration.consumer, id: after,
                count: configuration.readCount)
            guard let last = entries.last else { return }
            try await handle(entries, shard: shard)
            after = last.id
        }
    }

    private func reclaimIdleMessages(shard: Int) async throws {
        var cursor = "0-0"
        repeat {
            let claimed = try await outbox.redis.xautoclaim(
                outbox.keys.contactOutbox(shard: shard), group: configuration.group, consumer: configuration.consumer,
                minIdle: configuration.claimMinIdle, start: cursor, count: configuration.readCount)
            if !claimed.entries.isEmpty {
                logger.info("Claimed idle outbox messages", metadata: ["count": "\(claimed.entries.count)"])
            }
            for id in claimed.deletedIDs { try await outbox.discard(id, shard: shard) }
            try await handle(claimed.entries, shard: shard)
            cursor = claimed.nextCursor
        } while cursor != "0-0" && !Task.isShuttingDownGracefully
    }

    // MARK: Handling

    /// One contact's messages in order, contacts side by side.
    private func handle(_ entries: [StreamEntry], shard: Int) async throws {
        var byContact: [String: [ContactOutbox.Message]] = [:]
        var order: [String] = []
        for entry in entries {
            guard let message = ContactOutbox.Message(entry, shard: shard, keys: outbox.keys) else {
                logger.error(
                    "Outbox entry is not a message; acknowledged and dropped", metadata: ["entry_id": "\(entry.id)", "shard": "\(shard)"])
                try await outbox.discard(entry.id, shard: shard)
                continue
            }
            if byContact[message.subscriberHash] == nil { order.append(message.subscriberHash) }
            byContact[message.subscriberHash, default: []].append(message)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for hash in order {
                let messages = byContact[hash]!
                group.addTask {
                    for message in messages { try await self.handle(message) }
                }
            }
            try await group.waitForAll()
        }
    }

    private func handle(_ message: ContactOutbox.Message) async throws {
        let attempts = message.attempt + 1
        var contact = String(message.subscriberHash.prefix(8))
        do {
            switch message.operation {
            case .create:
                guard let address = try await outbox.address(of: message) else {
                    // Erased before it was created: the erasure's own message follows; nothing to create.
                    try await outbox.delivered(message, attempts: message.attempt)
                    logger.info("Contact erased before its creation; nothing to create", metadata: ["entry_id": "\(message.id)"])
                    return
                }
                contact = address.masked
                try await esp.createContact(address)
            case .erase:
                try await esp.eraseContact(subscriberHash: message.subscriberHash)
            }
        } catch let error as EmailServiceError {
            if error.isRetryable && attempts < configuration.maxAttempts {
                let delay = retryDelay(after: attempts, retryAfter: { if case .unavailable(_, let after) = error { after } else { nil } }())
                try await outbox.retryLater(
                    message, at: currentMilliseconds() + delay.inMilliseconds, attempts: attempts, error: error.description)
                retried.increment()
                logger.warning(
                    "ESP call failed; retrying later",
                    metadata: [
                        "operation": "\(message.operation.rawValue)", "contact": "\(contact)", "error": "\(error)",
                        "attempts": "\(attempts)", "retry_in_ms": "\(delay.inMilliseconds)",
                    ])
            } else {
                let reason = error.isRetryable ? "\(error) after \(attempts) attempts" : "\(error)"
                try await outbox.deadLetter(message, attempts: attempts, reason: reason)
                deadLettered.increment()
                logger.error(
                    "ESP outbox message moved to the dead-letter stream",
                    metadata: [
                        "operation": "\(message.operation.rawValue)", "contact": "\(contact)", "reason": "\(reason)",
                        "entry_id": "\(message.id)", "dead_letters": "\(outbox.keys.contactOutboxDeadLetters(shard: message.shard))",
                    ])
            }
            return
        }
        try await outbox.delivered(message, attempts: attempts)
        delivered.increment()
        logger.info(
            "ESP outbox message delivered",
            metadata: [
                "operation": "\(message.operation.rawValue)", "contact": "\(contact)", "attempts": "\(attempts)",
                "entry_id": "\(message.id)",
            ])
    }

    /// `retryInitial` doubling per attempt up to `retryMaximum`, with jitter (half to all of it), so
    /// many contacts failing together do not come back together; a longer `Retry-After` wins.
    func retryDelay(after attempts: Int, retryAfter: Duration?) -> Duration {
        let ceiling = min(configuration.retryInitial * (1 << min(attempts - 1, 30)), configuration.retryMaximum)
        return max(ceiling * Double.random(in: 0.5...1.0), retryAfter ?? .zero)
    }
}
