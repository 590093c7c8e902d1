import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The client of one Redis, or of a Redis Cluster, kept alive for the life of a server.
///
/// Single node (the default): a small set of multiplexed connections (`ConnectionPool`). Commands go
/// round robin to a ready connection and are pipelined there; nobody leases a connection. Each
/// connection has its own keeper task that reconnects with exponential backoff. While Redis is
/// unreachable, calls fail at once with `RedisError.connectionUnavailable` instead of queueing; callers
/// wait only for the first connection attempt after a start or a dropped connection, because that
/// attempt usually succeeds within milliseconds.
///
/// Cluster mode (`RedisConfiguration.cluster`): the same calls go to the master that owns their keys,
/// one such pool per master; `RedisClient+Cluster.swift` has the calls that name a key or a node.
///
/// `RedisClient` is a `Service`: `run()` keeps the connections until graceful shutdown, then closes
/// them after their replies in flight have arrived.
public final class RedisClient: RedisCommandSender, Service, Sendable {
    public let configuration: RedisConfiguration
    let mode: Mode

    public var replicaAcknowledgement: ReplicaAcknowledgement? { configuration.replicaAcknowledgement }
    private let logger: Logger

    enum Mode: Sendable {
        case single(ConnectionPool)
        case cluster(ClusterRouter)
    }

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        precondition(configuration.poolSize > 0, "poolSize must be positive")
        self.configuration = configuration
        self.logger = logger
        if let cluster = configuration.cluster {
            self.mode = .cluster(
                ClusterRouter(
                    configuration: configuration, options: cluster, eventLoopGroup: eventLoopGroup, logger: logger,
                    metricsFactory: metricsFactory))
        } else {
            self.mode = .single(
                ConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, metricsFactory: metricsFactory)
            )
        }
    }

    // MARK: Sending

    public func send(_ command: RedisCommand) async throws -> RESPValue {
        switch mode {
        case .single(let pool): try await pool.connection().send(command)
        case .cluster(let router): try await router.send(command)
        }
    }

    /// In cluster mode the commands go to their nodes, each node's in order on one connection, and the
    /// replies come back in the order of `commands`; a node's batch that fails as a whole fails each of
    /// its commands rather than the call.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        switch mode {
        case .single(let pool): try await pool.connection().pipeline(commands)
        case .cluster(let router): try await router.pipeline(commands)
        }
    }

    /// True when at least one connection is ready.
    public var isConnected: Bool {
        switch mode {
        case .single(let pool): pool.isConnected
        case .cluster(let router): router.allPools().contains { $0.isConnected }
        }
    }

    /// Commands in flight on all pooled connections, for tests.
    func pendingCount() async -> Int {
        var total = 0
        for pool in pools { total += await pool.pendingCount() }
        return total
    }

    var pools: [ConnectionPool] {
        switch mode {
        case .single(let pool): [pool]
        case .cluster(let router): router.allPools()
        }
    }

    /// A new connection outside the pool, for blocking commands such as `XREADGROUP ... BLOCK` that
    /// would stall everything pipelined behind them. The caller owns it and closes it. In cluster mode
    /// it goes to any master: use `dedicatedConnection(forKey:)` for a key's node.
    public func dedicatedConnection() async throws -> RedisConnection {
        switch mode {
        case .single(let pool): try await pool.dedicatedConnection()
        case .cluster(let router): try await router.pool(forSlot: nil).dedicatedConnection()
        }
    }

    /// One of the pool's connections, shared with everybody else (not leased). For callers that want
    /// several submissions to run in the order made (`RedisConnection.submit`). In cluster mode, one
    /// of any master's: use `connection(forKey:)` for a key's node.
    public func anyConnection() async throws -> RedisConnection {
        switch mode {
        case .single(let pool): try await pool.connection()
        case .cluster(let router): try await router.pool(forSlot: nil).connection()
        }
    }

    // MARK: Lifecycle

    public func run() async throws {
        switch mode {
        case .single(let pool):
            await withGracefulShutdownHandler {
                await pool.run()
            } onGracefulShutdown: {
                pool.shutdown()
            }
        case .cluster(let router):
            await withGracefulShutdownHandler {
                await router.run()
            } onGracefulShutdown: {
                router.shutdown()
            }
        }
        logger.debug("Redis client stopped")
    }

    /// Asks `run()` to close the connections and return. Called by graceful shutdown, or directly.
    public func shutdown() {
        switch mode {
        case .single(let pool): pool.shutdown()
        case .cluster(let router): router.shutdown()
        }
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
}

extension Duration {
    /// The duration in whole milliseconds, as Redis takes timeouts and expiries.
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
