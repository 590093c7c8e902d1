import BetMaker
import BetMakerRuntime
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP server on a free loopback port speaking the Mailchimp Marketing API v3 member paths,
/// for the tests' ESP (`ESP_URL`): `GET`, `PUT` and `POST …/actions/delete-permanent` of
/// `/3.0/lists/{list}/members/{hash}`, Basic authentication with its key. It counts every call it
/// gets per method and address, and can be told to answer slowly, or with a status of the test's
/// choosing (404, 200, 429 with `Retry-After`, 500…) instead of acting.
public final class FakeESPServer: Sendable {
    /// How the server answers from now on.
    public struct Behaviour: Sendable {
        /// Answer this status to every call instead of acting on it (nothing changes at the fake).
        public var status: Int?
        /// `Retry-After` seconds to send with `status`.
        public var retryAfter: Int?
        /// Wait this long before answering (acting, unless `status` is set, after the wait).
        public var delay: Duration

        public init(status: Int? = nil, retryAfter: Int? = nil, delay: Duration = .zero) {
            (self.status, self.retryAfter, self.delay) = (status, retryAfter, delay)
        }

        public static let normal = Behaviour()
    }

    struct State {
        var members: [String: String] = [:]
        /// Each member's status: the `status_if_new` it was created with.
        var statuses: [String: String] = [:]
        var calls: [String: Int] = [:]
        var answered = 0
        var behaviour = Behaviour.normal
    }

    public let listID = "test-list"
    public let apiKey = "test-esp-key-0123456789"
    public let port: Int
    let state: NIOLockedValueBox<State>
    let channel: any Channel

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The settings that point bet-maker at this server. The lookup deadline is the longest allowed
    /// rather than the product's 300 ms: on a loaded machine this local server's answer can take longer,
    /// and a test would read a late answer as an ESP that did not answer. Tests that prove the deadline
    /// set their own, with a server that delays by far more.
    public var settings: [String: String] {
        ["ESP_URL": baseURL, "ESP_LIST_ID": listID, "ESP_API_KEY": apiKey, "ESP_LOOKUP_TIMEOUT_MS": "10000"]
    }

    private init(port: Int, state: NIOLockedValueBox<State>, channel: any Channel) {
        (self.port, self.state, self.channel) = (port, state, channel)
    }

    public static func start() async throws -> FakeESPServer {
        let state = NIOLockedValueBox(State())
        let expected = "Basic " + Data("bet-maker:test-esp-key-0123456789".utf8).base64EncodedString()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state, authorization: expected, list: "test-list"))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestSupportError("the fake ESP has no port") }
        return FakeESPServer(port: port, state: state, channel: channel)
    }

    public func stop() async {
        try? await channel.close()
    }

    public func setBehaviour(_ behaviour: Behaviour) {
        state.withLockedValue { $0.behaviour = behaviour }
    }

    /// Adds a member as if it had been created earlier (not counted as a call).
    public func hold(_ address: String) {
        let stored = address.lowercased()
        state.withLockedValue { $0.members[EmailAddress.subscriberHash(of: stored)] = stored }
    }

    public func holds(_ address: String) -> Bool {
        state.withLockedValue { $0.members[EmailAddress.subscriberHash(of: address.lowercased())] != nil }
    }

    public var memberCount: Int { state.withLockedValue { $0.members.count } }

    /// The status a member was created with (`status_if_new`: `pending` or `subscribed`), nil if absent.
    public func status(of address: String) -> String? {
        state.withLockedValue { $0.statuses[EmailAddress.subscriberHash(of: address.lowercased())] }
    }

    /// Calls answered so far (a delayed call counts once its answer is written).
    public var answered: Int { state.withLockedValue { $0.answered } }

    /// Calls received with `method` (`GET`, `PUT`, `POST`) for `address`, answered or not.
    public func calls(_ method: String, _ address: String) -> Int {
        state.withLockedValue { $0.calls["\(method) \(EmailAddress.subscriberHash(of: address.lowercased()))"] ?? 0 }
    }

    /// Calls received with `method` for any address.
    public func calls(_ method: String) -> Int {
        state.withLockedValue { state in state.calls.filter { $0.key.hasPrefix(method + " ") }.values.reduce(0, +) }
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: NIOLockedValueBox<State>
        let authorization: String
        let list: String
        let request = NIOLockedValueBox<(head: HTTPRequestHead?, body: ByteBuffer)>((nil, ByteBuffer()))

        init(state: NIOLockedValueBox<State>, authorization: String, list: String) {
            (self.state, self.authorization, self.list) = (state, authorization, list)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                request.withLockedValue { $0 = (head, ByteBuffer()) }
            case .body(var part):
                _ = request.withLockedValue { $0.body.writeBuffer(&part) }
            case .end:
                let (head, body) = request.withLockedValue { $0 }
                guard let head else { return }
                let behaviour = state.withLockedValue { $0.behaviour }
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                let answer = { @Sendable in
                    let (status, json, headers) = self.answer(head, body: body, behaviour: behaviour)
                    self.state.withLockedValue { $0.answered += 1 }
                    self.write(status: status, json: json, headers: headers, keepAlive: head.isKeepAlive, context: bound.value)
                }
                countCall(head)
                if behaviour.delay > .zero {
                    context.eventLoop.scheduleTask(in: TimeAmount(behaviour.delay)) { answer() }
                } else {
                    answer()
                }
            }
        }

        func countCall(_ head: HTTPRequestHead) {
            let parts = head.uri.split(separator: "/")
            guard parts.count >= 5 else { return }
            state.withLockedValue { $0.calls["\(head.method.rawValue) \(parts[4])", default: 0] += 1 }
        }

        /// Status, body and headers for one request.
        func answer(_ head: HTTPRequestHead, body: ByteBuffer, behaviour: Behaviour) -> (Int, String, [(String, String)]) {
            if let status = behaviour.status {
                let headers = behaviour.retryAfter.map { [("Retry-After", String($0))] } ?? []
                return (status, #"{"status":\#(status),"title":"As the test asked"}"#, headers)
            }
            guard head.headers.first(name: "Authorization") == authorization else { return (401, #"{"title":"API Key Invalid"}"#, []) }
            // /3.0/lists/{list}/members/{hash}[/actions/delete-permanent]
            let parts = head.uri.split(separator: "/").map(String.init)
            guard parts.count >= 5, parts[0] == "3.0", parts[1] == "lists", parts[2] == list, parts[3] == "members" else {
                return (404, #"{"title":"Resource Not Found"}"#, [])
            }
            let hash = parts[4]
            switch (head.method, parts.count) {
            case (.GET, 5):
                guard
                    let (email, status) = state.withLockedValue({ state in
                        state.members[hash].map { ($0, state.statuses[hash] ?? "subscribed") }
                    })
                else { return (404, #"{"title":"Resource Not Found"}"#, []) }
                return (200, #"{"email_address":"\#(email)","status":"\#(status)"}"#, [])
            case (.PUT, 5):
                guard case .object(let members)? = try? JSONParser.parse(Array(body.readableBytesView)),
                    case .string(let email)? = members.first(where: { $0.key == "email_address" })?.value,
                    case .string(let statusIfNew)? = members.first(where: { $0.key == "status_if_new" })?.value,
                    ["subscribed", "pending"].contains(statusIfNew),
                    EmailAddress.subscriberHash(of: email.lowercased()) == hash
                else { return (400, #"{"title":"Invalid Resource"}"#, []) }
                let status = state.withLockedValue { state in
                    if state.members[hash] == nil { (state.members[hash], state.statuses[hash]) = (email.lowercased(), statusIfNew) }
                    return state.statuses[hash] ?? "subscribed"
                }
                return (200, #"{"email_address":"\#(email.lowercased())","status":"\#(status)"}"#, [])
            case (.POST, 7) where parts[5] == "actions" && parts[6] == "delete-permanent":
                let removed = state.withLockedValue { state in
                    state.statuses[hash] = nil
                    return state.members.removeValue(forKey: hash)
                }
                return removed == nil ? (404, #"{"title":"Resource Not Found"}"#, []) : (204, "", [])
            default:
                return (405, #"{"title":"Method Not Allowed"}"#, [])
            }
        }

        func write(status: Int, json: String, headers: [(String, String)], keepAlive: Bool, context: ChannelHandlerContext) {
            var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(json.utf8.count))
            if !keepAlive { head.headers.add(name: "Connection", value: "close") }
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if !json.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: json)))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Starts a fake ESP, runs `body`, and stops it again, also when `body` fails.
nonisolated(nonsending) public func withFakeESP<Result>(_ body: (FakeESPServer) async throws -> Result) async throws -> Result {
    let server = try await FakeESPServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
