import CoreMetrics
import Logging
import NIOCore
import Synchronization

/// Cluster mode's heart: the slot map (which master serves each of the 16384 slots), one connection
/// pool per master, and the task that keeps the map current.
///
/// The map comes from `CLUSTER SHARDS`, asked of a known node. It is asked again on a timer, when a
/// node answers `MOVED` (after that slot alone was patched at once), and when a connection to a node
/// fails, as a dead master never says `MOVED`; all of these together at most once a
/// `minimumRefreshInterval`. Pools open for new masters and close for nodes that are no longer masters.
/// Sending, with its redirects and retries, is in `ClusterRouter+Sending.swift`.
final class ClusterRouter: Sendable {
    let configuration: RedisConfiguration
    let options: RedisClusterOptions
    private let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let metricsFactory: any MetricsFactory
    let metrics: ClusterMetrics
    let state: Mutex<RouterState>
    private let refreshRequests: AsyncStream<Void>
    private let refreshRequester: AsyncStream<Void>.Continuation
    private let poolStarts: AsyncStream<ConnectionPool>
    private let poolStarter: AsyncStream<ConnectionPool>.Continuation

    init(
        configuration: RedisConfiguration, options: RedisClusterOptions, eventLoopGroup: any EventLoopGroup, logger: Logger,
        metricsFactory: any MetricsFactory
    ) {
        precondition(!options.seeds.isEmpty, "cluster mode needs at least one seed node")
        self.configuration = configuration
        self.options = options
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.metrics = ClusterMetrics(factory: metricsFactory)
        self.state = Mutex(RouterState())
        // Requests that come while a refresh is waiting or running make one more refresh, not many.
        (self.refreshRequests, self.refreshRequester) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (self.poolStarts, self.poolStarter) = AsyncStream.makeStream()
    }

    // MARK: Finding a node

    /// The pool of the master that serves `slot` (nil: any master, for keyless commands). Before the
    /// first map has come, waits for it (at most the connect timeout).
    func pool(forSlot slot: Int?) async throws -> ConnectionPool {
        while true {
            switch state.withLock({ $0.pool(forSlot: slot) }) {
            case .use(let pool): return pool
            case .fail(let error): throw error
            case .wait: try await waitForMap()
            }
        }
    }

    /// The pool of the node at `endpoint`, opened if the client does not know it yet (an `ASK` to a
    /// node the map does not have, a node the caller names).
    func pool(at endpoint: RedisEndpoint) throws(RedisError) -> ConnectionPool {
        let (pool, isNew) = try state.withLock { state throws(RedisError) in
            if state.phase == .shutDown { throw .connectionUnavailable("client shut down") }
            if let index = state.index(of: endpoint) { return (state.nodes[index].pool, false) }
            let pool = makePool(endpoint)
            state.nodes.append(.init(endpoint: endpoint, pool: pool))
            return (pool, true)
        }
        if isNew { start(pool) }
        return pool
    }

    /// The masters of the current map, waiting for the first map if need be.
    func masters() async throws -> [RedisEndpoint] {
        _ = try await pool(forSlot: nil)
        return state.withLock { $0.masters }
    }

    func allPools() -> [ConnectionPool] {
        state.withLock { $0.nodes.map(\.pool) }
    }

    /// `MOVED` and `ASK`, as every cluster connection reports them before its caller sees them.
    func observe(_ redirect: RedisRedirect) {
        metrics.redirect(redirect.kind)
        guard redirect.kind == .moved else { return }
        let patch = state.withLock { state -> (pool: ConnectionPool?, from: RedisEndpoint?)? in
            guard state.phase != .shutDown, !state.owners.isEmpty else { return nil }
            let index: Int
            var newPool: ConnectionPool?
            if let known = state.index(of: redirect.endpoint) {
                index = known
            } else {
                newPool = makePool(redirect.endpoint)
                state.nodes.append(.init(endpoint: redirect.endpoint, pool: newPool!))
                index = state.nodes.count - 1
            }
            state.nodes[index].isMaster = true
            let previous = state.owners[redirect.slot]
            guard previous != UInt16(index) else { return nil }
            state.owners[redirect.slot] = UInt16(index)
            return (newPool, previous == RouterState.unassigned ? nil : state.nodes[Int(previous)].endpoint)
        }
        guard let patch else { return }
        if let pool = patch.pool { start(pool) }
        logger.info(
            "Redis cluster map changed: a slot moved",
            metadata: ["slot": "\(redirect.slot)", "from": "\(patch.from.map(\.description) ?? "none")", "to": "\(redirect.endpoint)"])
        requestRefresh()
    }

    /// Asks for a fresh map soon (at most one refresh a `minimumRefreshInterval`).
    func requestRefresh() {
        refreshRequester.yield()
    }

    private func makePool(_ endpoint: RedisEndpoint) -> ConnectionPool {
        ConnectionPool(
            configuration: nodeConfiguration(endpoint), eventLoopGroup: eventLoopGroup, logger: logger, metricsFactory: metricsFactory,
            cluster: .init(
                redirects: redirectHandling(endpoint),
                connectionFailed: { [weak self] in self?.requestRefresh() },
                readyConnections: metrics.readyConnections(of: endpoint),
                failures: metrics.connectionFailures(of: endpoint)))
    }

    func redirectHandling(_ endpoint: RedisEndpoint) -> RedirectHandling {
        RedirectHandling(host: endpoint.host, observe: { [weak self] in self?.observe($0) })
    }

    /// The client's settings for one node: its address, database 0 (the only one a cluster has).
    func nodeConfiguration(_ endpoint: RedisEndpoint) -> RedisConfiguration {
        var node = configuration
        node.host = endpoint.host
        node.port = endpoint.port
        node.database = 0
        node.cluster = nil
        return node
    }

    private func start(_ pool: ConnectionPool) {
        if case .terminated = poolStarter.yield(pool) { pool.shutdown() }
    }

    // MARK: Waiting for the first map

    private func waitForMap() async throws {
        let waiterID = UInt64.random(in: 0...UInt64.max)
        let timeout = configuration.connectTimeout + .milliseconds(100)
        let timer = Task {
            try await Task.sleep(for: timeout)
            let waiter = state.withLock { $0.waiters.removeValue(forKey: waiterID) }
            waiter?.resume(throwing: RedisError.connectionUnavailable("no Redis cluster map within \(timeout)"))
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> RouterState.Decision<Void> in
                switch state.pool(forSlot: nil) {
                case .wait:
                    state.waiters[waiterID] = continuation
                    return .wait
                case .fail(let error): return .fail(error)
                case .use: return .use(())
                }
            }
            switch outcome {
            case .use: continuation.resume()
            case .fail(let error): continuation.resume(throwing: error)
            case .wait: break
            }
        }
    }

    // MARK: Lifecycle

    /// Discovers the map, keeps it current and runs the pools until `shutdown()`; then closes every
    /// pool after the replies in flight have arrived.
    func run() async {
        state.withLock { if $0.phase == .notStarted { $0.phase = .running } }
        refreshRequester.yield()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.refreshLoop() }
            for await pool in poolStarts {
                group.addTask { await pool.run() }
            }
            let (pools, waiters) = state.withLock { state in
                state.phase = .shutDown
                defer { state.waiters = [:] }
                return (state.nodes.map(\.pool), Array(state.waiters.values))
            }
            for waiter in waiters { waiter.resume(throwing: RedisError.connectionUnavailable("client shut down")) }
            refreshRequester.finish()
            for pool in pools { pool.shutdown() }
        }
    }

    func shutdown() {
        let pools = state.withLock { state in
            state.phase = .shutDown
            return state.nodes.map(\.pool)
        }
        poolStarter.finish()
        refreshRequester.finish()
        for pool in pools { pool.shutdown() }
    }

    private func refreshLoop() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: self.options.refreshInterval) } catch { return }
                    self.requestRefresh()
                }
            }
            var last: ContinuousClock.Instant?
            for await _ in refreshRequests {
                if let last { try? await Task.sleep(until: last + options.minimumRefreshInterval) }
                if state.withLock({ $0.phase == .shutDown }) { break }
                last = .now
                if await !refresh() { requestRefresh() }
            }
            group.cancelAll()
        }
    }

    /// Asks the known masters, then their replicas, then the seeds for `CLUSTER SHARDS` and applies
    /// the first complete map (or the most complete one). False when no node answered.
    @discardableResult
    func refresh() async -> Bool {
        let candidates = state.withLock { $0.refreshCandidates(seeds: options.seeds) }
        var best: ClusterShards?
        var lastError = "no node to ask"
        for endpoint in candidates {
            do {
                let shards = try await askShards(endpoint)
                if shards.coveredSlots > (best?.coveredSlots ?? 0) { best = shards }
                if shards.coveredSlots == HashSlot.count { break }
            } catch {
                lastError = "\(endpoint): \(error)"
            }
        }
        guard let best else {
            metrics.refreshFailed.increment()
            let waiters = state.withLock { state in
                state.lastFailure = "cannot read the Redis cluster map (\(lastError))"
                guard state.owners.isEmpty else { return [CheckedContinuation<Void, any Error>]() }
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters {
                waiter.resume(throwing: RedisError.connectionUnavailable("cannot read the Redis cluster map (\(lastError))"))
            }
            logger.warning("Redis cluster map refresh failed", metadata: ["error": "\(lastError)"])
            return false
        }
        apply(best)
        return true
    }

    private func askShards(_ endpoint: RedisEndpoint) async throws -> ClusterShards {
        var command = RedisCommand("CLUSTER", "SHARDS")
        command.timeout = configuration.connectTimeout
        let pooled = state.withLock { state in state.index(of: endpoint).flatMap { state.nodes[$0].pool.readyConnection } }
        if let pooled {
            return try ClusterShards(reply: try await pooled.send(command), answeringHost: endpoint.host)
        }
        let connection = try await RedisConnection.connect(
            configuration: nodeConfiguration(endpoint), eventLoop: eventLoopGroup.next(), metricsFactory: metricsFactory,
            redirects: nil)
        defer { connection.closeNow() }
        return try ClusterShards(reply: try await connection.send(command), answeringHost: endpoint.host)
    }

    private func apply(_ shards: ClusterShards) {
        let outcome = state.withLock { state in state.apply(shards, makePool: makePool) }
        for pool in outcome.started { start(pool) }
        for pool in outcome.closed { pool.shutdown() }
        for waiter in outcome.waiters { waiter.resume() }
        metrics.masters.record(shards.masters.count)
        if outcome.slotsMoved > 0 || !outcome.started.isEmpty || !outcome.closed.isEmpty {
            metrics.refreshChanged.increment()
            logger.info(
                "Redis cluster map changed",
                metadata: [
                    "masters": "\(shards.summary)", "slots_moved": "\(outcome.slotsMoved)",
                    "pools_opened": "\(outcome.started.count)", "pools_closed": "\(outcome.closed.count)",
                ])
        } else {
            metrics.refreshUnchanged.increment()
        }
    }
}
