import Adapters
import BetMaker
import TestSupport
import Testing

/// The CoinMarketCap adapter against the fake CoinMarketCap: its request, exact prices, and each
/// failure it must tell apart.
@Suite struct PriceFeedTests {
    @Test func coinMarketCapPricesAreReadExactlyAndItsFailuresToldApart() async throws {
        let cmc = try await FakeCoinMarketCap.start()
        defer { Task { await cmc.shutdown() } }
        let feed = CoinMarketCapFeed(baseURL: cmc.baseURL, apiKey: "k-1", timeout: .seconds(5))
        cmc.set(price: "97012.123456785", for: "BTC")
        cmc.set(price: "3499.99999999999", for: "ETH")
        let prices = try await feed.prices(for: ["BTC", "ETH", "DOGE"])
        #expect(prices == ["BTC": usd("97012.12345678"), "ETH": usd("3500")])
        #expect(cmc.requests.last == .init(uri: "/v2/cryptocurrency/quotes/latest?symbol=BTC,ETH,DOGE&convert=USD", apiKey: "k-1"))

        for (status, failure) in [
            (401, CoinMarketCapFeed.Failure.unauthorized(401)), (429, .rateLimited), (500, .unavailable(500)), (503, .unavailable(503)),
        ] {
            cmc.set(.status(status))
            await #expect(throws: failure) { try await feed.prices(for: ["BTC"]) }
        }
        // A slow answer is cut off at the deadline: the fake answers after a minute, the call fails long
        // before (the bound is loose on purpose: a loaded machine is slow, but not by a factor of 60).
        cmc.set(.slow(.seconds(60)))
        let started = ContinuousClock.now
        await #expect(throws: (any Error).self) { try await feed.prices(for: ["BTC"]) }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func theSimulatedFeedIsTheSameWalkForTheSameSeed() async throws {
        let one = SimulatedPriceFeed(seed: 7)
        let two = SimulatedPriceFeed(seed: 7)
        var previous = SimulatedPriceFeed.defaultStartingPrices["BTC"]!
        for _ in 0..<100 {
            let a = try await one.prices(for: ["BTC", "XYZ"])
            #expect(try await two.prices(for: ["BTC", "XYZ"]) == a)
            let price = try #require(a["BTC"])
            // At most 0.1 % a tick.
            #expect(abs(price.units - previous.units) <= previous.units / 1000)
            previous = price
        }
        let eight = try await SimulatedPriceFeed(seed: 8).prices(for: ["BTC"])
        let seven = try await SimulatedPriceFeed(seed: 7).prices(for: ["BTC"])
        #expect(eight != seven)
    }
}

/// A price written in a test as text; the texts are constants, so they always parse.
func usd(_ text: String) -> Price { try! Price(parsing: text) }
