import MetricsTestKit
import NIOCore
import NIOEmbedded
import Testing

@testable import RedisClient

/// The command handler without a socket or a server: an `EmbeddedChannel` whose clock the test
/// moves, so deadlines are checked to the nanosecond and no test waits for real time.
@Suite struct CommandHandlerTests {
    typealias Replies = [Result<RESPValue, RedisError>]

    /// One handler on a connected embedded channel.
    final class Harness {
        let handler = RedisCommandHandler(metrics: CommandMetrics(factory: TestMetrics()))
        let channel: EmbeddedChannel
        var loop: EmbeddedEventLoop { channel.embeddedEventLoop }

        init() throws {
            channel = EmbeddedChannel(handler: handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        }

        /// Submits `command` with a deadline `timeout` from now; the future holds what became of it.
        func submit(_ command: RedisCommand, id: UInt64, timeout: TimeAmount) -> EventLoopFuture<Replies> {
            let promise = loop.makePromise(of: Replies.self)
            handler.submit(
                batch: [command], id: id, collector: BatchCollector(count: 1, receiver: .promise(promise)), deadline: loop.now + timeout)
            return promise.futureResult
        }

        /// Everything the handler has written to the socket so far.
        func written() throws -> String {
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }
    }

    /// What became of a submission: nil while it waits, else its replies or its failure.
    static func outcome(_ future: EventLoopFuture<Replies>) -> Result<Replies, any Error>? {
        var outcome: Result<Replies, any Error>?
        future.assumeIsolated().whenComplete { outcome = $0 }
        return outcome
    }

    static func failure(_ future: EventLoopFuture<Replies>) -> RedisError? {
        guard case .failure(let error) = outcome(future) else { return nil }
        return error as? RedisError
    }

    @Test func aShortDeadlineBehindALongerOneFiresAtItsOwnDeadline() throws {
        let harness = try Harness()
        var blocking = RedisCommand("BLPOP", "queue", "10")
        blocking.isBlocking = true
        let long = harness.submit(blocking, id: 1, timeout: .seconds(15))
        let short = harness.submit(RedisCommand("PING"), id: 2, timeout: .milliseconds(500))
        harness.loop.run()
        #expect(try harness.written().contains("PING"))

        harness.loop.advanceTime(by: .milliseconds(499))
        #expect(Self.outcome(short) == nil && Self.outcome(long) == nil, "nothing is due yet")
        harness.loop.advanceTime(by: .milliseconds(1))
        // Not 15 s later: the later command's earlier deadline moved the timer forward.
        guard case .timeout(let command, _) = Self.failure(short) else {
            Issue.record("PING must time out at its own deadline, got \(String(describing: Self.outcome(short)))")
            return
        }
        #expect(command == "PING")
        // The replies can no longer be matched, so everything pending fails and the connection closes.
        #expect(Self.failure(long)?.mayHaveRun == true)
        #expect(!harness.channel.isActive)
    }

    @Test func theTimerStaysOnTheEarliestDeadlineWhenALaterOneArrives() throws {
        let harness = try Harness()
        let first = harness.submit(RedisCommand("PING"), id: 1, timeout: .milliseconds(300))
        let second = harness.submit(RedisCommand("ECHO", "x"), id: 2, timeout: .seconds(5))
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(300))
        guard case .timeout(let command, _) = Self.failure(first) else {
            Issue.record("the first deadline must still fire, got \(String(describing: Self.outcome(first)))")
            return
        }
        #expect(command == "PING")
        #expect(Self.failure(second) != nil)
    }

    @Test func aCommandSubmittedToAClosingConnectionIsNeverSent() throws {
        let harness = try Harness()
        let inFlight = harness.submit(RedisCommand("ECHO", "in-flight"), id: 1, timeout: .seconds(5))
        harness.loop.run()
        harness.handler.closeGracefully(deadline: harness.loop.now + .seconds(5))
        let late = harness.submit(RedisCommand("ECHO", "late"), id: 2, timeout: .seconds(5))
        harness.loop.run()
        guard case .connectionUnavailable = Self.failure(late) else {
            Issue.record("a command given to a closing connection is refused unsent, got \(String(describing: Self.outcome(late)))")
            return
        }
        #expect(Self.failure(late)?.mayHaveRun == false)
        let written = try harness.written()
        #expect(written.contains("in-flight") && !written.contains("late"), "\(written)")

        // The command in flight still gets its reply, and then the connection closes.
        try harness.channel.writeInbound(ByteBuffer(string: "$9\r\nin-flight\r\n"))
        guard case .success(let replies) = Self.outcome(inFlight), case .success(let reply) = replies.first else {
            Issue.record("the reply in flight must arrive: \(String(describing: Self.outcome(inFlight)))")
            return
        }
        #expect(reply.string == "in-flight")
        #expect(!harness.channel.isActive)
    }

    @Test func aCommandSubmittedAfterATimeoutClosedTheConnectionIsNeverSent() throws {
        let harness = try Harness()
        let expired = harness.submit(RedisCommand("PING"), id: 1, timeout: .milliseconds(100))
        harness.loop.run()
        harness.loop.advanceTime(by: .milliseconds(100))
        #expect(Self.failure(expired)?.mayHaveRun == true)
        let late = harness.submit(RedisCommand("PING"), id: 2, timeout: .seconds(5))
        guard case .connectionUnavailable = Self.failure(late) else {
            Issue.record("expected connectionUnavailable, got \(String(describing: Self.outcome(late)))")
            return
        }
    }

    /// A connection can drop between a submission and the flush at the end of the event loop tick;
    /// the commands still in the outbound buffer never reached Redis and must not say they may have.
    @Test func commandsNotYetWrittenWhenTheConnectionDropsWereNotSent() throws {
        let harness = try Harness()
        let written = harness.submit(RedisCommand("ECHO", "written"), id: 1, timeout: .seconds(5))
        harness.loop.run()
        let unwritten = harness.submit(RedisCommand("ECHO", "unwritten"), id: 2, timeout: .seconds(5))
        harness.channel.pipeline.fireChannelInactive()
        harness.loop.run()

        guard case .connectionClosed = Self.failure(written) else {
            Issue.record("a written command's outcome is unknown, got \(String(describing: Self.outcome(written)))")
            return
        }
        #expect(Self.failure(written)?.mayHaveRun == true)
        guard case .connectionUnavailable = Self.failure(unwritten) else {
            Issue.record("an unwritten command was not sent, got \(String(describing: Self.outcome(unwritten)))")
            return
        }
        #expect(Self.failure(unwritten)?.mayHaveRun == false)
        let bytes = try harness.written()
        #expect(bytes.contains("written") && !bytes.contains("unwritten"), "\(bytes)")
    }
}
