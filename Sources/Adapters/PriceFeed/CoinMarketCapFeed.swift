import AsyncHTTPClient
import BetMaker
import BetMakerRuntime
import NIOCore
import NIOHTTP1

/// CoinMarketCap's `GET /v2/cryptocurrency/quotes/latest?symbol=BTC,ETH&convert=USD` with the key in
/// `X-CMC_PRO_API_KEY`. Prices are read from the exact text of `quote.USD.price` (the strict parser
/// keeps numbers as text) into `Price`, rounded to 8 decimals half to even. How often it is called,
/// and the backoff after a failure, are the worker's (`PriceWorker`); every call has a deadline.
public struct CoinMarketCapFeed: PriceFeed {
    public let name = "coinmarketcap"
    public let baseURL: String
    public let apiKey: String
    public let timeout: Duration
    private let http: HTTPClient

    public init(baseURL: String, apiKey: String, timeout: Duration, http: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.timeout = timeout
        self.http = http
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// 401 or 403: the key is wrong or lacks the plan; retrying soon will not help.
        case unauthorized(Int)
        /// 429: the plan's rate or credit limit.
        case rateLimited
        /// 5xx.
        case unavailable(Int)
        case unexpectedStatus(Int)
        case malformed(String)

        public var description: String {
            switch self {
            case .unauthorized(let status): "CoinMarketCap refused the API key (\(status))"
            case .rateLimited: "CoinMarketCap's rate limit (429)"
            case .unavailable(let status): "CoinMarketCap is unavailable (\(status))"
            case .unexpectedStatus(let status): "CoinMarketCap answered \(status)"
            case .malformed(let reason): "CoinMarketCap's answer is not as expected: \(reason)"
            }
        }
    }

    public func prices(for symbols: [String]) async throws -> [String: Price] {
        var request = HTTPClientRequest(
            url: "\(baseURL)/v2/cryptocurrency/quotes/latest?symbol=\(symbols.joined(separator: ","))&convert=USD")
        request.headers.add(name: "X-CMC_PRO_API_KEY", value: apiKey)
        request.headers.add(name: "Accept", value: "application/json")
        let (seconds, attoseconds) = timeout.components
        let response = try await http.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
        switch response.status.code {
        case 200: break
        case 401, 403: throw Failure.unauthorized(Int(response.status.code))
        case 429: throw Failure.rateLimited
        case 500...599: throw Failure.unavailable(Int(response.status.code))
        default: throw Failure.unexpectedStatus(Int(response.status.code))
        }
        return try Self.parse(body.readableBytesView, symbols: symbols)
    }

    /// `data.<SYMBOL>` is an array of assets with that symbol (v2; v1 had one object): the first one,
    /// CoinMarketCap's own, is taken. A symbol missing from the answer, or without a usable USD
    /// price, is left out rather than failing the others.
    static func parse(_ bytes: some Collection<UInt8>, symbols: [String]) throws -> [String: Price] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(bytes))
        } catch {
            throw Failure.malformed("\(error)")
        }
        guard let data = document.member("data") else { throw Failure.malformed("no data") }
        var prices: [String: Price] = [:]
        for symbol in symbols {
            var asset = data.member(symbol)
            if case .array(let assets)? = asset { asset = assets.first }
            guard case .number(let text)? = asset?.member("quote")?.member("USD")?.member("price"),
                let price = try? Price(parsing: text)
            else { continue }
            prices[symbol] = price
        }
        return prices
    }
}

extension JSONValue {
    /// The member `key` of an object (the first, if repeated); nil for anything else.
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}
