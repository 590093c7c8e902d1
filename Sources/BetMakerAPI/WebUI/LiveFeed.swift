import BetMaker
import BetMakerRuntime
import Logging
import Metrics
import NIOCore
import RedisClient
import ServiceLifecycle
import Synchronization

/// The live updates of one API process: ONE reader task reads the feed stream (`RedisKeys.feed`,
/// `XREAD BLOCK` on a connection of its own to the stream's node) and hands each entry to every connected browser that may
/// see it, through a bounded buffer per browser. A browser whose buffer is full (slow, or gone without
/// closing) is dropped at once: its stream ends, nothing more is kept for it, and its `EventSource`
/// reconnects with `Last-Event-ID` and catches up from the stream (`catchUp(after:)`).
///
/// Who sees what: a settlement batch goes to the players whose bets it settled (event `settlement`)
/// and to every administrator (event `progress`: settled of total, paid out); a `close_trades` call
/// goes to the players whose trades it closed (event `trades`).
///
/// Price ticks come from the symbols' tick streams themselves, each read by a reader of its own (a
/// symbol's keys are in its slot on Redis Cluster): recording a tick writes nothing more for the browsers. Every browser gets the latest tick of each
/// symbol a read returned (event `tick`, without an `id:`, so it leaves `Last-Event-ID` alone: only
/// the latest price matters, so there is nothing to resume).
///
/// What a stream may cost (docs/decisions/0287): a user holds at most `streamsPerUser` streams on one
/// process, a catch-up reads the feed a page at a time, and a stream is unsubscribed on every way out
/// of its response (`end`). The `live_streams` gauge counts the streams open.
final class LiveFeed: Service, Sendable {
    struct Subscriber: Sendable {
        let userID: Int
        let isOperator: Bool
        let continuation: AsyncStream<Message>.Continuation
    }

    /// What a browser is sent: an event with its feed entry id, an event without one (a tick), or a
    /// keep-alive comment.
    enum Message: Sendable, Equatable {
        case event(id: String, name: String, data: String)
        case update(name: String, data: String)
        case keepAlive
    }

    let redis: RedisClient
    let key: String
    /// Each traded symbol's tick stream, and the symbol.
    let tickStreams: [String: String]
    let bufferSize: Int
    /// Streams one user may hold open on this process.
    let streamsPerUser: Int
    let keepAlive: Duration
    let block: Duration
    let logger: Logger
    private let state = Mutex<(next: Int, subscribers: [Int: Subscriber])>((0, [:]))
    /// The readers that have their start position (the feed's and each tick stream's).
    private let reading = Mutex(0)
    private let openStreams = Gauge(label: "live_streams")

    /// Feed entries one catch-up read takes: a browser that was away long resumes in many short reads,
    /// none of which holds Redis or this process's memory for long.
    static let catchUpPageSize = 100

    init(
        redis: RedisClient, keys: RedisKeys, symbols: [String], logger: Logger, bufferSize: Int = 64, streamsPerUser: Int = 10,
        keepAlive: Duration = .seconds(15), block: Duration = .seconds(5)
    ) {
        self.redis = redis
        self.key = keys.feed
        tickStreams = Dictionary(symbols.map { (keys.ticks($0), $0) }, uniquingKeysWith: { first, _ in first })
        self.bufferSize = bufferSize
        self.streamsPerUser = streamsPerUser
        self.keepAlive = keepAlive
        self.block = block
        self.logger = logger
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// True once the reader knows where the stream ends: every entry added from then on is delivered.
    var isReading: Bool { reading.withLock { $0 } == 1 + tickStreams.count }

    /// The streams `userID` holds open on this process.
    func streams(of userID: Int) -> Int {
        state.withLock { $0.subscribers.values.count { $0.userID == userID } }
    }

    /// A browser's messages from now on, and the id `end` takes; nil when the user holds
    /// `streamsPerUser` streams already. The stream ends when the browser is dropped, ended, or the
    /// process stops; whoever subscribes calls `end` on every way out.
    func subscribe(userID: Int, isOperator: Bool) -> (id: Int, messages: AsyncStream<Message>)? {
        let (stream, continuation) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .bufferingOldest(bufferSize))
        let subscribed: (id: Int, count: Int)? = state.withLock { state in
            guard state.subscribers.values.count(where: { $0.userID == userID }) < streamsPerUser else { return nil }
            state.next += 1
            state.subscribers[state.next] = Subscriber(userID: userID, isOperator: isOperator, continuation: continuation)
            return (state.next, state.subscribers.count)
        }
        guard let (id, count) = subscribed else { return nil }
        openStreams.record(count)
        // However the stream ends (`end`, a drop, the stream released unread): forget the browser.
        continuation.onTermination = { [weak self] _ in self?.forget(id) }
        return (id, stream)
    }

    private func forget(_ id: Int) {
        let count = state.withLock { state in
            state.subscribers.removeValue(forKey: id)
            return state.subscribers.count
        }
        openStreams.record(count)
    }

    /// Ends one browser's stream (its response is over once it has written what it holds) and
    /// unsubscribes it.
    func end(_ id: Int) {
        state.withLock { $0.subscribers[id] }?.continuation.finish()
        forget(id)
    }

    /// Hands `page` the feed entries after `id` that a browser missed, up to the feed's end when the
    /// catch-up began, `catchUpPageSize` at a time; false when the feed no longer reaches back that
    /// far (trimmed) or `id` is no entry id: the browser must then reload what it shows (`reset`).
    func catchUp(after id: String, _ page: ([StreamEntry]) async throws -> Void) async throws -> Bool {
        guard StreamID.isValid(id) else { return false }
        guard let first = try await redis.xrange(key, count: 1).first else { return true }
        if StreamID.precedes(id, first.id) { return false }
        guard let end = try await redis.xrevrange(key, count: 1).first?.id else { return true }
        var after = id
        while StreamID.precedes(after, end) {
            let entries = try await redis.xrange(key, start: "(" + after, end: end, count: Self.catchUpPageSize)
            guard let last = entries.last else { break }
            try await page(entries)
            after = last.id
        }
        return true
    }

    /// The message a subscriber gets for an entry, or nil when the entry is not for them.
    static func message(for entry: StreamEntry, userID: Int, isOperator: Bool) -> Message? {
        guard let fields = entry.fields else { return nil }
        let users = fields["users"]?.split(separator: ",") ?? []
        let isTheirs = users.contains { $0 == String(userID) }
        if fields["type"] == "trades" {
            // Only the owners: the page reads its trades' results itself. A void has no tick or price.
            guard isTheirs, let symbol = fields["symbol"] else { return nil }
            var json = JSONWriter(capacity: 96)
            json.beginObject()
            json.field("symbol", symbol)
            json.field("tick", fields["tick"])
            json.field("price", fields["price"].flatMap { Int64($0) }.map { Price(units: $0).description })
            json.endObject()
            return .event(id: entry.id, name: "trades", data: String(decoding: json.bytes, as: UTF8.self))
        }
        guard fields["type"] == "settlement", let eventID = fields["event_id"] else { return nil }
        guard isOperator || isTheirs else { return nil }
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.field("event_id", eventID)
        json.field("result", fields["result"] ?? "")
        for name in ["settled", "total", "won", "lost", "void"] { json.field(name, Int(fields[name] ?? "") ?? 0) }
        if isOperator {
            json.field("paid", Money(cents: Int64(fields["paid"] ?? "") ?? 0).description)
            json.field("refunded", Money(cents: Int64(fields["refunded"] ?? "") ?? 0).description)
        }
        json.endObject()
        return .event(id: entry.id, name: isOperator ? "progress" : "settlement", data: String(decoding: json.bytes, as: UTF8.self))
    }

    /// The `tick` event of a symbol's tick entry (every browser gets it), or nil for an entry without a price.
    static func tick(_ entry: StreamEntry, symbol: String) -> Message? {
        guard let units = entry.fields?["price"].flatMap({ Int64($0) }), units > 0 else { return nil }
        var json = JSONWriter(capacity: 96)
        json.beginObject()
        json.field("symbol", symbol)
        json.field("tick", entry.id)
        json.field("price", Price(units: units).description)
        json.endObject()
        return .update(name: "tick", data: String(decoding: json.bytes, as: UTF8.self))
    }

    /// Hands a message to one subscriber; a full buffer drops the subscriber.
    private func deliver(_ message: Message, to id: Int, _ subscriber: Subscriber) {
        if case .dropped = subscriber.continuation.yield(message) {
            logger.info("Dropped a slow live-update client", metadata: ["user_id": "\(subscriber.userID)"])
            subscriber.continuation.finish()
            forget(id)
        }
    }

    private func broadcast(_ make: (Subscriber) -> Message?) {
        for (id, subscriber) in state.withLock({ $0.subscribers }) {
            if let message = make(subscriber) { deliver(message, to: id, subscriber) }
        }
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            // One reader a stream, each on a connection to the stream's node: on Redis Cluster the feed
            // and each symbol's ticks live in different slots, and one XREAD cannot span them.
            group.addTask { await self.read(self.key, symbol: nil) }
            for (stream, symbol) in self.tickStreams { group.addTask { await self.read(stream, symbol: symbol) } }
            group.addTask {
                while (try? await Task.sleep(for: self.keepAlive)) != nil {
                    self.broadcast { _ in .keepAlive }
                }
            }
            // Until SIGTERM: then every stream ends, so the server can drain its connections.
            try? await gracefulShutdown()
            group.cancelAll()
        }
        finishAll()
    }

    /// Ends every browser's stream (on shutdown, so the server can drain its connections).
    func finishAll() {
        for subscriber in state.withLock({ $0.subscribers.values }) { subscriber.continuation.finish() }
    }

    /// A stream's reader: the feed from its last entry at start, each entry once, in order; or a symbol's
    /// ticks from its last entry, each read's latest tick (older ones are stale already).
    private func read(_ stream: String, symbol: String?) async {
        var backoff = Backoff(.init(initial: .milliseconds(100), maximum: .seconds(5)))
        var after: String?
        while !Task.isCancelled {
            do {
                let connection = try await redis.dedicatedConnection(forKey: stream)
                defer { connection.closeNow() }
                if after == nil {
                    after = try await connection.xrevrange(stream, count: 1).first?.id ?? "0-0"
                    reading.withLock { $0 += 1 }
                }
                while !Task.isCancelled, let start = after {
                    let entries = try await connection.xread(stream, after: start, count: 500, block: block)
                    backoff.reset()
                    guard let newest = entries.last else { continue }
                    after = newest.id
                    if let symbol {
                        if let tick = Self.tick(newest, symbol: symbol) { broadcast { _ in tick } }
                        continue
                    }
                    for entry in entries {
                        broadcast { Self.message(for: entry, userID: $0.userID, isOperator: $0.isOperator) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("Live feed reader failed; retrying", metadata: ["stream": "\(stream)", "error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}

/// Server-Sent Events framing (the WHATWG HTML standard's `text/event-stream`).
enum ServerSentEvents {
    static func frame(_ message: LiveFeed.Message) -> ByteBuffer {
        switch message {
        case .event(let id, let name, let data):
            // `data` is one line of JSON: the writer escapes line breaks inside strings.
            return ByteBuffer(string: "id: \(id)\nevent: \(name)\ndata: \(data)\n\n")
        case .update(let name, let data):
            return ByteBuffer(string: "event: \(name)\ndata: \(data)\n\n")
        case .keepAlive:
            return ByteBuffer(string: ": keep-alive\n\n")
        }
    }

    /// Tells the browser to reload what it shows: the updates it missed are no longer kept.
    static let reset = ByteBuffer(string: "event: reset\ndata: {}\n\n")
    /// How soon a browser reconnects after the stream ended (ms).
    static let retry = ByteBuffer(string: "retry: 2000\n\n")
}
