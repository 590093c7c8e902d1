import CoreMetrics
import Logging
import NIOCore
import Synchronization

/// A small set of multiplexed connections to one Redis node, kept alive until `shutdown()`.
///
/// Commands go round robin to a ready connection and are pipelined there; nobody leases a connection.
/// Each connection has its own keeper task that reconnects with exponential backoff. While the node is
/// unreachable, `connection()` fails at once with `RedisError.connectionUnavailable` instead of
/// queueing; callers wait only for the first connection attempt after a start or a dropped connection,
/// because that attempt usually succeeds within milliseconds.
///
/// The single-node client is one pool; the cluster client keeps one per master.
final class ConnectionPool: Sendable {
    let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let cluster: ClusterHooks?
    private let state: Mutex<PoolState>
    private let shutdownRequests: AsyncStream<Void>
    private let shutdownRequester: AsyncStream<Void>.Continuation

    /// What a cluster node's pool does beyond a single node's: redirects become errors the map learns
    /// from, a failing connection asks for a fresh map, and the node's connections are counted.
    struct ClusterHooks: Sendable {
        let redirects: RedirectHandling
        let connectionFailed: @Sendable () -> Void
        let readyConnections: Gauge
        let failures: Counter
    }

    init(
        configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger, metricsFactory: any MetricsFactory,
        cluster: ClusterHooks? = nil
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.cluster = cluster
        self.state = Mutex(PoolState(slotCount: configuration.poolSize))
        (self.shutdownRequests, self.shutdownRequester) = AsyncStream.makeStream()
    }

    /// True when at least one connection is ready.
    var isConnected: Bool {
        state.withLock { $0.slots.contains { $0.readyConnection?.isActive == true } }
    }

    /// A ready connection if there is one now, without waiting.
    var readyConnection: RedisConnection? {
        state.withLock { $0.slots.lazy.compactMap(\.readyConnection).first { $0.isActive } }
    }

    /// Commands in flight on all pooled connections, for tests.
    func pendingCount() async -> Int {
        var total = 0
        for connection in state.withLock({ $0.slots.compactMap(\.readyConnection) }) {
            total += await connection.pendingCount()
        }
        return total
    }

    /// A new connection outside the pool, owned by the caller.
    func dedicatedConnection() async throws -> RedisConnection {
        try await RedisConnection.connect(
            configuration: configuration, eventLoop: eventLoopGroup.next(), metricsFactory: metricsFactory,
            redirects: cluster?.redirects)
    }

    func connection() async throws -> RedisConnection {
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

    /// Keeps the connections until `shutdown()` (or cancellation), then closes them after their
    /// replies in flight have arrived.
    func run() async {
        state.withLock { if $0.phase == .notStarted { $0.phase = .running } }
        await withTaskGroup(of: Void.self) { keepers in
            for slot in 0..<configuration.poolSize {
                keepers.addTask { await self.keep(slot: slot) }
            }
            for await _ in shutdownRequests {}
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
        cluster?.readyConnections.record(0)
    }

    func shutdown() {
        // A pool that never ran has no keeper to fail its waiters.
        let waiters = state.withLock { state in
            guard state.phase == .notStarted else { return [CheckedContinuation<RedisConnection, any Error>]() }
            state.phase = .shutDown
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume(throwing: RedisError.connectionUnavailable("client shut down")) }
        shutdownRequester.finish()
    }

    /// One connection's keeper: connect, wait for the connection to close, reconnect with backoff.
    private func keep(slot: Int) async {
        var backoff = Backoff(configuration.reconnectBackoff)
        var failuresInARow = 0
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection.connect(
                    configuration: configuration, eventLoop: eventLoopGroup.next(), metricsFactory: metricsFactory,
                    redirects: cluster?.redirects)
                let (waiters, isShutDown, ready) = state.withLock { state in
                    state.slots[slot] = .ready(connection)
                    state.lastFailure = nil
                    return (state.takeWaiters(), state.phase == .shutDown, state.readyCount)
                }
                if isShutDown {
                    await connection.close()
                    return
                }
                cluster?.readyConnections.record(ready)
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
                let (isShuttingDown, stillReady) = state.withLock { state in
                    state.slots[slot] = .connecting
                    return (state.phase == .shutDown, state.readyCount)
                }
                if isShuttingDown || Task.isCancelled { return }
                cluster?.readyConnections.record(stillReady)
                cluster?.connectionFailed()
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
                cluster?.failures.increment()
                cluster?.connectionFailed()
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

    var readyCount: Int { slots.count { $0.readyConnection != nil } }

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
