import Testing

@testable import RedisClient

@Suite struct ConfigurationTests {
    @Test func parsesAFullURL() throws {
        let configuration = try RedisConfiguration(url: "redis://alice:s%40cret@cache.internal:6380/3")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == 3)
        #expect(configuration.redactedURL == "redis://alice:***@cache.internal:6380/3")
    }

    @Test func fillsInDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://localhost")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
    }

    @Test func takesAPasswordWithoutUser() throws {
        let configuration = try RedisConfiguration(url: "redis://:pw@redis:6379/0")
        #expect(configuration.username == nil)
        #expect(configuration.password == "pw")
    }

    @Test func takesIPv6Hosts() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:7000")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
    }

    @Test(arguments: ["http://localhost", "redis://", "redis://host:0", "redis://host:99999", "redis://host/x", "redis://a:%zz@host"])
    func rejectsBadURLs(url: String) {
        #expect(throws: RedisConfigurationError.self) { try RedisConfiguration(url: url) }
    }

    @Test func backoffGrowsToItsCeiling() {
        var backoff = Backoff(.init(initial: .milliseconds(100), maximum: .seconds(1)))
        let delays = (0..<8).map { _ in backoff.next() }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[3] >= .milliseconds(400) && delays[3] <= .milliseconds(800))
        #expect(delays[7] >= .milliseconds(500) && delays[7] <= .seconds(1))
        backoff.reset()
        #expect(backoff.next() <= .milliseconds(100))
    }
}
