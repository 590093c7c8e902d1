import CoreMetrics
import NIOCore

/// The heart of pipelining: commands are written as they come, and a FIFO queue of pending sinks
/// matches each reply to its command, because Redis answers in order.
///
/// The handler uses the encoder (`RedisCommand.encode`, hiredis's formatter) and the decoder
/// (`HiredisReader`) directly rather than as handlers of their own: every command submitted within
/// one tick of the event loop is formatted into one buffer and written with one flush, and replies
/// reach their callers without being boxed for the pipeline in between.
///
/// Every pending command has a deadline. One timer, armed for the earliest deadline, watches the
/// whole queue; when a deadline passes, the replies can no longer be trusted to arrive, so every
/// pending command fails and the connection closes (the pool replaces it).
///
/// Failures say whether a command may have run (`RedisError.mayHaveRun`): a command refused because
/// the connection had closed or was closing, or still waiting in `outbound` when it closed, was never
/// written (`connectionUnavailable`); one written and not answered may have run (`connectionClosed`,
/// `timeout`, `protocolError`).
final class RedisCommandHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Pending {
        let id: UInt64
        let command: String
        var sink: ReplySink
        let isBlocking: Bool
        let sent: NIODeadline
        let deadline: NIODeadline
    }

    private var queue = CircularBuffer<Pending>(initialCapacity: 64)
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    /// When `timer` fires; a command with an earlier deadline moves it forward.
    private var timerDeadline: NIODeadline?
    private let reader = HiredisReader()
    /// Commands formatted since the last flush.
    private var outbound = ByteBuffer()
    /// How many entries at the tail of `queue` are still only in `outbound`, not written.
    private var unflushed = 0
    private var flushScheduled = false
    private var closeWhenDrained = false
    private var closedReason: RedisError?
    private let metrics: CommandMetrics
    private let redirects: RedirectHandling?

    init(metrics: CommandMetrics, redirects: RedirectHandling? = nil) {
        self.metrics = metrics
        self.redirects = redirects
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    var pendingCount: Int { queue.count }

    // MARK: Submitting (always on the event loop)

    func submit(_ command: RedisCommand, id: UInt64, sink: ReplySink, deadline: NIODeadline) {
        guard let context, closedReason == nil, !closeWhenDrained else {
            fail(sink, with: notSent)
            return
        }
        enqueue(command, id: id, sink: sink, deadline: deadline, sent: context.eventLoop.now, context: context)
        scheduleFlush(context)
    }

    func submit(batch commands: [RedisCommand], id: UInt64, collector: BatchCollector, deadline: NIODeadline) {
        guard let context, closedReason == nil, !closeWhenDrained else {
            collector.fail(notSent)
            return
        }
        let now = context.eventLoop.now
        for (index, command) in commands.enumerated() {
            enqueue(command, id: id, sink: .batch(collector, index: index), deadline: deadline, sent: now, context: context)
        }
        scheduleFlush(context)
    }

    /// Why a command submitted now is refused: the connection has closed or is closing, so the
    /// command is never written and changes nothing. The pool gives out connections it believes
    /// active, so a submission can lose the race with the close.
    private var notSent: RedisError {
        .connectionUnavailable("connection \(closedReason.map { "closed (\($0))" } ?? "closing"); the command was not sent")
    }

    private func enqueue(
        _ command: RedisCommand, id: UInt64, sink: ReplySink, deadline: NIODeadline, sent: NIODeadline,
        context: ChannelHandlerContext
    ) {
        do {
            try command.encode(into: &outbound)
        } catch {
            fail(sink, with: error)
            return
        }
        queue.append(
            Pending(
                id: id, command: command.name, sink: sink, isBlocking: command.isBlocking,
                sent: sent, deadline: deadline))
        unflushed += 1
        // Deadlines mostly grow with submission time, so this rarely re-arms; but a short command
        // behind a long one (a blocking read, a big batch) must not wait for the long one's deadline.
        if timerDeadline.map({ deadline < $0 }) ?? true { armTimer(at: deadline, context: context) }
    }

    /// Many callers submit within one tick of the event loop; one write after all of them sends
    /// their commands together.
    private func scheduleFlush(_ context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            guard let context = self.context, self.outbound.readableBytes > 0 else { return }
            self.unflushed = 0
            let bytes = self.outbound
            self.outbound = context.channel.allocator.buffer(capacity: max(1024, bytes.readableBytes))
            context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
        }
    }

    /// The caller of command `id` gave up. Its reply will still come and is dropped; a blocking
    /// command may hold the reply back for long, so its dedicated connection is closed instead.
    func cancel(id: UInt64) {
        var closeConnection = false
        for index in queue.indices where queue[index].id == id {
            switch queue[index].sink {
            case .single(let continuation):
                continuation.resume(throwing: CancellationError())
            case .batch(let collector, _):
                collector.fail(CancellationError())
            case .abandoned:
                continue
            }
            queue[index].sink = .abandoned
            closeConnection = closeConnection || queue[index].isBlocking
        }
        if closeConnection {
            failAll(with: .connectionClosed("a blocking command was cancelled"))
            context?.close(promise: nil)
        }
    }

    /// Closes the connection once every pending reply has arrived, or at `deadline` at the latest.
    func closeGracefully(deadline: NIODeadline) {
        guard let context else { return }
        closeWhenDrained = true
        if queue.isEmpty {
            context.close(promise: nil)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
                self?.failAll(with: .connectionClosed("client shut down"))
                self?.context?.close(promise: nil)
            }
        }
    }

    // MARK: Replies

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closedReason == nil else { return }
        do {
            try reader.feed(unwrapInboundIn(data))
            let replies = try reader.replies()
            if replies.isEmpty { return }
            let now = context.eventLoop.now
            for reply in replies {
                try deliver(reply, at: now, context: context)
            }
        } catch {
            // A parse error is sticky in hiredis, and an unexpected reply means the stream is out of
            // step: either way nothing more on this connection can be trusted.
            errorCaught(context: context, error: error)
        }
    }

    private func deliver(_ reply: RESPValue, at now: NIODeadline, context: ChannelHandlerContext) throws(RedisError) {
        guard let pending = queue.popFirst() else {
            throw .protocolError("unexpected reply \(reply)")
        }
        let result: Result<RESPValue, RedisError>
        if case .error(let error) = reply {
            result = .failure(redirects?.error(for: error) ?? .server(error))
        } else {
            result = .success(reply)
        }
        metrics.recordReply(command: pending.command, duration: now - pending.sent, isError: reply.isErrorReply)
        switch pending.sink {
        case .single(let continuation):
            continuation.resume(with: result.mapError { $0 as any Error })
        case .batch(let collector, let index):
            collector.complete(index, with: result)
        case .abandoned:
            break
        }
        if closeWhenDrained && queue.isEmpty {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = (error as? RedisError) ?? .connectionClosed("\(error)")
        failAll(with: reason)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: .connectionClosed("connection to Redis lost"))
        context.fireChannelInactive()
    }

    // MARK: Deadlines

    private func armTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.checkDeadlines()
        }
    }

    private func checkDeadlines() {
        timer = nil
        timerDeadline = nil
        guard let context, !queue.isEmpty else { return }
        let now = context.eventLoop.now
        if let expired = queue.first(where: { $0.deadline <= now }) {
            let waited = (now - expired.sent).nanoseconds / 1_000_000
            failAll(with: .timeout(command: expired.command, milliseconds: waited))
            context.close(promise: nil)
        } else if let earliest = queue.lazy.map(\.deadline).min() {
            armTimer(at: earliest, context: context)
        }
    }

    /// Fails every pending command. Those already written get `error` (they may have run); those
    /// still in `outbound` are dropped unwritten and get `connectionUnavailable` (they cannot have).
    private func failAll(with error: RedisError) {
        if closedReason == nil { closedReason = error }
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        var written = queue.count - unflushed
        unflushed = 0
        outbound.clear()
        while let pending = queue.popFirst() {
            let failure = written > 0 ? error : notSent
            written -= 1
            metrics.recordFailure(command: pending.command, error: failure)
            fail(pending.sink, with: failure)
        }
    }

    private func fail(_ sink: ReplySink, with error: RedisError) {
        switch sink {
        case .single(let continuation): continuation.resume(throwing: error)
        case .batch(let collector, _): collector.fail(error)
        case .abandoned: break
        }
    }
}

extension RESPValue {
    var isErrorReply: Bool {
        if case .error = self { return true }
        return false
    }
}
