import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import RedisClient

/// A fake CoinMarketCap for the price feed's tests: a real HTTP server on a free loopback port that
/// answers `GET /v2/cryptocurrency/quotes/latest` in CoinMarketCap's JSON shape with the prices the test
/// sets (as exact JSON number text), or with 401, 429 or 500, or slowly, as the test chooses; it keeps
/// every request's path and API key.
public final class FakeCoinMarketCap: Sendable {
    public enum Behaviour: Sendable, Equatable {
        case prices
        case status(Int)
        /// Answers the prices after this long.
        case slow(Duration)
    }

    public struct Request: Sendable, Equatable {
        public let uri: String
        public let apiKey: String?

        public init(uri: String, apiKey: String?) {
            self.uri = uri
            self.apiKey = apiKey
        }
    }

    private struct State {
        var behaviour = Behaviour.prices
        /// Symbol → the JSON number text of its USD price.
        var prices: [String: String] = [:]
        var requests: [Request] = []
    }

    private let state = NIOLockedValueBox(State())
    private let channel: any Channel
    public let baseURL: String

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.baseURL = "http://127.0.0.1:\(port)"
    }

    /// Starts the server; stop it with `shutdown()`.
    public static func start() async throws -> FakeCoinMarketCap {
        let box = NIOLockedValueBox<FakeCoinMarketCap?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler { box.withLockedValue { $0 } })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let fake = FakeCoinMarketCap(channel: channel, port: channel.localAddress?.port ?? 0)
        box.withLockedValue { $0 = fake }
        return fake
    }

    public func shutdown() async {
        try? await channel.close()
    }

    public func set(_ behaviour: Behaviour) { state.withLockedValue { $0.behaviour = behaviour } }
    public func set(price: String, for symbol: String) { state.withLockedValue { $0.prices[symbol] = price } }
    public var requests: [Request] { state.withLockedValue { $0.requests } }

    fileprivate func answer(uri: String, apiKey: String?) -> (behaviour: Behaviour, status: Int, body: String) {
        state.withLockedValue { state in
            state.requests.append(Request(uri: uri, apiKey: apiKey))
            switch state.behaviour {
            case .status(let status):
                let body = #"{"status":{"error_code":\#(status),"error_message":"fake error \#(status)"}}"#
                return (state.behaviour, status, body)
            case .prices, .slow:
                guard uri.hasPrefix("/v2/cryptocurrency/quotes/latest") else {
                    return (state.behaviour, 404, #"{"status":{"error_code":404}}"#)
                }
                var data: [String] = []
                for (index, (symbol, price)) in state.prices.sorted(by: { $0.key < $1.key }).enumerated() {
                    data.append(
                        #""\#(symbol)":[{"id":\#(index + 1),"name":"\#(symbol)","symbol":"\#(symbol)","quote":{"USD":{"price":\#(price),"#
                            + #""volume_24h":1234.5,"last_updated":"2026-11-22T21:30:00.000Z"}}}]"#)
                }
                let body =
                    #"{"status":{"timestamp":"2026-11-22T21:30:05.042Z","error_code":0,"error_message":null,"credit_count":1},"#
                    + #""data":{\#(data.joined(separator: ","))}}"#
                return (state.behaviour, 200, body)
            }
        }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let fake: () -> FakeCoinMarketCap?
        var head: HTTPRequestHead?

        init(_ fake: @escaping () -> FakeCoinMarketCap?) { self.fake = fake }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head, let fake = fake() else { return }
                let (behaviour, status, body) = fake.answer(uri: head.uri, apiKey: head.headers.first(name: "X-CMC_PRO_API_KEY"))
                var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count))])
                if status == 429 { headers.add(name: "Retry-After", value: "60") }
                let responseHead = HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers)
                let delay: TimeAmount
                if case .slow(let duration) = behaviour { delay = .milliseconds(duration.inMilliseconds) } else { delay = .zero }
                let loopBound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    let (context, handler) = loopBound.value
                    context.write(handler.wrapOutboundOut(.head(responseHead)), promise: nil)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
