import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small set of multiplexed connections to one Redis, kept alive for the life of a server.
///
/// Commands go round robin to a ready connection and are pipelined there; nobody leases a connection.
/// Each connection has its own keeper task that reconnects with exponential backoff. While Redis is
/// unreachable, calls fail at once with `RedisError.connectionUnavailable` instead of queueing; callers
/// wait only for the first connection attempt after a start or a dropped connection, because that
/// attempt usually succeeds within milliseconds.
///
/// `RedisClient` is a `Service`: `run()` keeps the connections until graceful shutdown, then closes
/// them after their replies in flight have arrived.
public final class RedisClient: RedisCommandSender, Service, Sendable {
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let state: Mutex<PoolState>
    private let shutdownRequests: AsyncStream<Void>
    private let shutdownRequester: AsyncStream<Void>.Continuation

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        precondition(configuration.poolSize > 0, "poolSize must be positive")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.state = Mutex(PoolState(slotCount: configuration.poolSize))
        (self.shutdownRequests, self.shutdownRequester) = AsyncStream.makeStream()
    }

    // MARK: Sending

    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await connection().send(command)
    }

    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        try await connection().pipeline(commands)
    }

    /// True when at least one connection is ready.
    public var isConnected: Bool {
        state.withLock { $0.slots.contains { $0.readyConnection?.isActive == true } }
    }

    /// Commands in flight on all pooled connections, for tests.
    func pendingCount() async -> Int {
        var total = 0
        for connection in state.withLock({ $0.slots.compactMap(\.readyConnection) }) {
            total += await connection.pendingCount()
        }
        return total
    }

    /// A new connection outside the pool, for blocking commands such as `XREADGROUP ... BLOCK` that
    /// would stall everything pipelined behind them. The caller owns it and closes it.
    public func dedicatedConnection() async throws -> RedisConnection {
        try await RedisConnection.connect(
            configuration: configuration, eventLoop: eventLoopGroup.next(), metricsFactory: metricsFactory)
    }

    /// One of the pool's connections, shared with everybody else (not leased). For callers that want
    /// several submissions to run in the order made (`RedisConnection.submit`).
    public func anyConnection() async throws -> RedisConnection {
        try await connection()
    }

    private func connection() async throws -> RedisConnection {
        switch state.withLock({ $0.decide() }) {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait:
            return try await waitForConnection()
        }
    }

    /// Waits for a connection attempt in progress, at most `connectTimeout` (plus a little, so the
    /// attempt itself reports first when it fails).
    private func waitForConnection() async throws -> RedisConnection {
        let waiterID = UInt64.random(in: 0...UInt64.max)
        let timeout = configuration.connectTimeout + .milliseconds(100)
        let timer = Task {
            try await Task.sleep(for: timeout)
            let waiter = state.withLock { $0.waiters.removeValue(forKey: waiterID) }
            waiter?.resume(throwing: RedisError.connectionUnavailable("no connection within \(timeout)"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> PoolState.Decision in
                let decision = state.decide()
                if case .wait = decision { state.waiters[waiterID] = continuation }
                return decision
            }
            switch outcome {
            case .use(let connection): continuation.resume(returning: connection)
            case .fail(let error): continuation.resume(throwing: error)
            case .wait: break
            }
        }
    }

    // MARK: Lifecycle

    public func run() async throws {
        state.withLock { $0.phase = .running }
        await withTaskGroup(of: Void.self) { keepers in
            for slot in 0..<configuration.poolSize {
                keepers.addTask { await self.keep(slot: slot) }
            }
            await withGracefulShutdownHandler {
                for await _ in shutdownRequests {}
            } onGracefulShutdown: {
                self.shutdown()
            }
            let (connections, waiters) = state.withLock { state in
                state.phase = .shutDown
                return (state.slots.compactMap(\.readyConnection), state.takeWaiters())
            }
            for waiter in waiters { waiter.resume(throwing: RedisError.connectionUnavailable("client shut down")) }
            await withTaskGroup(of: Void.self) { closing in
                for connection in connections {
                    closing.addTask { await connection.close() }
                }
            }
            keepers.cancelAll()
        }
        logger.debug("Redis client stopped")
    }

    /// Asks `run()` to close the connections and return. Called by graceful shutdown, or directly.
    public func shutdown() {
        shutdownRequester.finish()
    }

    @discardableResult
    /// Runs the client for the duration of `body`, for tools and tests that are not a `ServiceGroup`.
    nonisolated(nonsending) public func withRunning<Result>(_ body: (RedisClient) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            do {
                let result = try await body(self)
                shutdown()
                try await group.waitForAll()
                return result
            } catch {
                shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// One connection's keeper: connect, wait for the connection to close, reconnect with backoff.
    private func keep(slot: Int) async {
        var backoff = Backoff(configuration.reconnectBackoff)
        var failuresInARow = 0
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection.connect(
                    configuration: configuration, eventLoop: eventLoopGroup.next(), metricsFactory: metricsFactory)
                let (waiters, isShutDown) = state.withLock { state in
                    state.slots[slot] = .ready(connection)
                    state.lastFailure = nil
                    return (state.takeWaiters(), state.phase == .shutDown)
                }
                if isShutDown {
                    await connection.close()
                    return
                }
                for waiter in waiters { waiter.resume(returning: connection) }
                if failuresInARow > 0 {
                    logger.info("Redis connection restored", metadata: ["redis": "\(configuration.redactedURL)", "slot": "\(slot)"])
                }
                failuresInARow = 0
                backoff.reset()
                await withTaskCancellationHandler {
                    try? await connection.closeFuture.get()
                } onCancel: {
                    connection.closeNow()
                }
                let isShuttingDown = state.withLock { state in
                    state.slots[slot] = .connecting
                    return state.phase == .shutDown
                }
                if isShuttingDown || Task.isCancelled { return }
                logger.warning(
                    "Redis connection lost, reconnecting", metadata: ["redis": "\(configuration.redactedURL)", "slot": "\(slot)"])
            } catch {
                if Task.isCancelled { return }
                failuresInARow += 1
                // The reason alone: the waiters' error adds "Redis unavailable: " to it once.
                let reason =
                    switch error as? RedisError {
                    case .connectionUnavailable(let inner)?: inner
                    case let other?: "\(other)"
                    case nil: "\(error)"
                    }
                let waiters = state.withLock { state in
                    state.slots[slot] = .down
                    state.lastFailure = reason
                    return state.takeWaiters()
                }
                for waiter in waiters { waiter.resume(throwing: RedisError.connectionUnavailable(reason)) }
                let delay = backoff.next()
                // The first failure of an outage is worth a warning; the retries after it are not.
                logger.log(
                    level: failuresInARow == 1 ? .warning : .debug, "Redis unreachable, retrying",
                    metadata: ["error": "\(reason)", "retry_in_ms": "\(delay.inMilliseconds)", "slot": "\(slot)"])
                do { try await Task.sleep(for: delay) } catch { return }
                state.withLock { $0.slots[slot] = .connecting }
            }
        }
    }
}

private struct PoolState {
    enum Slot {
        case connecting
        case ready(RedisConnection)
        case down

        var readyConnection: RedisConnection? {
            if case .ready(let connection) = self { return connection }
            return nil
        }
    }

    enum Phase { case notStarted, running, shutDown }

    enum Decision {
        case use(RedisConnection)
        case wait
        case fail(RedisError)
    }

    var slots: [Slot]
    var phase = Phase.notStarted
    var next = 0
    /// Why the last connection attempt failed; nil once a connection is ready again.
    var lastFailure: String?
    var waiters: [UInt64: CheckedContinuation<RedisConnection, any Error>] = [:]

    init(slotCount: Int) {
        self.slots = Array(repeating: .connecting, count: slotCount)
    }

    mutating func decide() -> Decision {
        if phase == .shutDown { return .fail(.connectionUnavailable("client shut down")) }
        for offset in 0..<slots.count {
            let index = (next + offset) % slots.count
            if let connection = slots[index].readyConnection, connection.isActive {
                next = index + 1
                return .use(connection)
            }
        }
        // Before run() has started its keepers, callers wait for them (bounded by the connect timeout).
        if phase == .notStarted { return .wait }
        if let lastFailure { return .fail(.connectionUnavailable(lastFailure)) }
        // A ready slot whose socket just closed is about to reconnect, like a connecting one.
        let anyConnecting = slots.contains {
            switch $0 {
            case .connecting, .ready: true
            case .down: false
            }
        }
        return anyConnecting ? .wait : .fail(.connectionUnavailable("no connection to Redis"))
    }

    mutating func takeWaiters() -> [CheckedContinuation<RedisConnection, any Error>] {
        defer { waiters = [:] }
        return Array(waiters.values)
    }
}

extension Duration {
    /// The duration in whole milliseconds, as Redis takes timeouts and expiries.
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
