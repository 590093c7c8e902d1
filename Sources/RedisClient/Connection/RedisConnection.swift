import CoreMetrics
import NIOCore
import NIOPosix
import Synchronization

/// Anything that can send commands to Redis: the pooled `RedisClient` and a single `RedisConnection`.
/// Typed commands are written once, against this protocol.
public protocol RedisCommandSender: Sendable {
    /// Sends one command and waits for its reply. An error reply is thrown as `RedisError.server`.
    func send(_ command: RedisCommand) async throws -> RESPValue
    /// Writes all commands in one flush and returns their replies in order, each succeeded or failed
    /// on its own. Throws only when the batch as a whole failed (connection lost, timeout, cancellation).
    func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>]
    /// Loads scripts ahead of time (`SCRIPT LOAD`); the cluster client loads them on every master.
    func load(_ scripts: [RedisScript]) async throws
    /// True when the server (every master, for the cluster client) has every one of `scripts` cached.
    func scriptsExist(_ scripts: [RedisScript]) async throws -> Bool
    /// Set: scripts that may write wait for this many replicas (`RedisConfiguration.replicaAcknowledgement`).
    var replicaAcknowledgement: ReplicaAcknowledgement? { get }
}

extension RedisCommandSender {
    /// A connection of its own waits for no replica: only the client's configuration asks for it.
    public var replicaAcknowledgement: ReplicaAcknowledgement? { nil }
}

/// One connection to Redis, shared by any number of concurrent callers: their commands are pipelined
/// and the replies matched back in order. NIO owns the socket; hiredis formats and parses.
public final class RedisConnection: RedisCommandSender, Sendable {
    public let channel: any Channel
    private let handler: NIOLoopBound<RedisCommandHandler>
    private let nextID = Atomic<UInt64>(1)
    private let commandTimeout: TimeAmount
    private let shutdownGracePeriod: TimeAmount

    private init(channel: any Channel, handler: NIOLoopBound<RedisCommandHandler>, configuration: RedisConfiguration) {
        self.channel = channel
        self.handler = handler
        self.commandTimeout = TimeAmount(configuration.commandTimeout)
        self.shutdownGracePeriod = TimeAmount(configuration.shutdownGracePeriod)
    }

    /// Connects, then authenticates, selects the database and names the client, all in one round trip.
    public static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) async throws -> RedisConnection {
        try await connect(configuration: configuration, eventLoop: eventLoop, metricsFactory: metricsFactory, redirects: nil)
    }

    /// `redirects`: set for a cluster node, whose `MOVED` and `ASK` replies become `RedisError.redirected`.
    static func connect(
        configuration: RedisConfiguration, eventLoop: any EventLoop, metricsFactory: any MetricsFactory,
        redirects: RedirectHandling?
    ) async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            // TCP_NODELAY is an IPPROTO_TCP option: at SOL_SOCKET the same number is SO_DEBUG, which needs
            // CAP_NET_ADMIN, so no container or service user could connect (issue 26). ClientBootstrap
            // turns Nagle off by default too; saying it here keeps it off should that default change.
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RedisCommandHandler(metrics: CommandMetrics(factory: metricsFactory), redirects: redirects))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            // NIO wraps the reason ("Connection refused") in one failure per address tried.
            let reason = (error as? NIOConnectionError)?.connectionErrors.first.map { "\($0.error)" } ?? "\(error)"
            throw RedisError.connectionUnavailable("cannot connect to \(configuration.host):\(configuration.port): \(reason)")
        }
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RedisCommandHandler.self), eventLoop: channel.eventLoop)
        }.get()
        let connection = RedisConnection(channel: channel, handler: handler, configuration: configuration)
        do {
            try await connection.handshake(configuration)
        } catch let error as RedisError where error.isConnectivity {
            // Whatever became of the handshake, the caller's own commands were never sent.
            try? await channel.close()
            throw RedisError.connectionUnavailable("handshake with \(configuration.host):\(configuration.port) failed: \(error)")
        } catch {
            try? await channel.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration) async throws {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", username, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", configuration.database))
        }
        if let name = configuration.clientName {
            commands.append(RedisCommand("CLIENT", "SETNAME", name))
        }
        guard !commands.isEmpty else { return }
        for result in try await pipeline(commands) {
            _ = try result.get()
        }
    }

    public var isActive: Bool { channel.isActive }

    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Sends one command and waits for its reply.
    ///
    /// A task cancelled before the call gets `CancellationError` and sends nothing; cancelled while
    /// waiting, it gets `CancellationError` at once and the reply is dropped when it comes (see
    /// `RedisCommandHandler.cancel`).
    ///
    /// - Throws: `RedisError` (`mayHaveRun` tells whether the command may have been carried out), or
    ///   `CancellationError`.
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let deadline = NIODeadline.now() + (command.timeout.map(TimeAmount.init) ?? commandTimeout)
        let handler = self.handler
        let eventLoop = channel.eventLoop
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                if Task.isCancelled { return continuation.resume(throwing: CancellationError()) }
                eventLoop.execute {
                    handler.value.submit(command, id: id, sink: .single(continuation), deadline: deadline)
                }
                Self.cancelIfCancelledMeanwhile(id, handler, eventLoop)
            }
        } onCancel: {
            eventLoop.execute { handler.value.cancel(id: id) }
        }
    }

    /// `onCancel` runs as soon as the task is cancelled, possibly before the submission above was
    /// queued on the event loop; its `cancel` then finds nothing and would be lost. Checking again
    /// after queueing the submission closes that window: this `cancel` runs after the submission
    /// (one event loop runs its tasks in order), and a second `cancel` of the same id does nothing.
    @inline(__always)
    private static func cancelIfCancelledMeanwhile(_ id: UInt64, _ handler: NIOLoopBound<RedisCommandHandler>, _ eventLoop: any EventLoop) {
        if Task.isCancelled { eventLoop.execute { handler.value.cancel(id: id) } }
    }

    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let longest = commands.lazy.compactMap(\.timeout).map(TimeAmount.init).max() ?? commandTimeout
        let deadline = NIODeadline.now() + max(longest, commandTimeout)
        let handler = self.handler
        let eventLoop = channel.eventLoop
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                if Task.isCancelled { return continuation.resume(throwing: CancellationError()) }
                eventLoop.execute {
                    let collector = BatchCollector(count: commands.count, receiver: .continuation(continuation))
                    handler.value.submit(batch: commands, id: id, collector: collector, deadline: deadline)
                }
                Self.cancelIfCancelledMeanwhile(id, handler, eventLoop)
            }
        } onCancel: {
            eventLoop.execute { handler.value.cancel(id: id) }
        }
    }

    /// Queues `commands` for writing at once and returns without waiting; `replies()` waits.
    ///
    /// Submissions from one task reach Redis in the order they were made, so a caller can keep several
    /// batches in flight on one connection (Redis never waits for the caller between them) and still
    /// know they run in order.
    public func submit(_ commands: [RedisCommand]) -> SubmittedBatch {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let longest = commands.lazy.compactMap(\.timeout).map(TimeAmount.init).max() ?? commandTimeout
        let deadline = NIODeadline.now() + max(longest, commandTimeout)
        let promise = channel.eventLoop.makePromise(of: [Result<RESPValue, RedisError>].self)
        let handler = self.handler
        channel.eventLoop.execute {
            let collector = BatchCollector(count: commands.count, receiver: .promise(promise))
            handler.value.submit(batch: commands, id: id, collector: collector, deadline: deadline)
        }
        return SubmittedBatch(future: promise.futureResult)
    }

    /// Queues `commands` for the collector; called on the connection's event loop (a cluster pipeline
    /// hands each event loop its nodes' batches in one task).
    func enqueueOnEventLoop(_ commands: [RedisCommand], collector: BatchCollector) {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let longest = commands.lazy.compactMap(\.timeout).map(TimeAmount.init).max() ?? commandTimeout
        handler.value.submit(batch: commands, id: id, collector: collector, deadline: NIODeadline.now() + max(longest, commandTimeout))
    }

    /// Commands waiting for their reply, for tests that must know a command is in flight.
    func pendingCount() async -> Int {
        let handler = self.handler
        return (try? await channel.eventLoop.submit { handler.value.pendingCount }.get()) ?? 0
    }

    /// Closes after the replies in flight have arrived (bounded by the grace period).
    public func close() async {
        let handler = self.handler
        let deadline = NIODeadline.now() + shutdownGracePeriod
        channel.eventLoop.execute { handler.value.closeGracefully(deadline: deadline) }
        try? await channel.closeFuture.get()
    }

    /// Closes at once; everything pending fails with `connectionClosed`.
    public func closeNow() {
        channel.close(promise: nil)
    }
}

/// The replies of a batch queued with `RedisConnection.submit`.
public struct SubmittedBatch: Sendable {
    let future: EventLoopFuture<[Result<RESPValue, RedisError>]>

    /// Waits for the batch's replies, each a success or a failure of its own.
    public func replies() async throws -> [Result<RESPValue, RedisError>] {
        try await future.get()
    }
}
