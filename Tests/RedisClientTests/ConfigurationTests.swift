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

    /// A malformed URL can put the password anywhere: in what reads as the port, the database, the
    /// scheme. No error may repeat it, since settings errors are printed and logged.
    @Test(arguments: [
        "http://alice:hunter2-pw@cache:6379/0",  // wrong scheme
        "redis//alice:hunter2-pw@cache:6379",  // scheme without its colon
        "redis://alice:hunter2-pw",  // no host: the password reads as a port
        "redis://:hunter2-pw",
        "redis://cache:6379/hunter2-pw",  // the password where the database goes
        "redis://alice:hunter2-pw@cache:6379/0?password=hunter2-pw",
        "redis://alice:hunter2-pw@cache:hunter2-pw",
        "redis://alice:hunter2-pw@",
        "redis://alice:hunter2-pw%zz@cache",  // bad percent-encoding in the password itself
        "redis://alice:hunter2-pw@cache:99999",
    ])
    func invalidURLsNeverRepeatThePassword(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("an invalid URL was accepted")
        } catch {
            #expect(!error.description.contains("hunter2"), "the error repeats the password: \(error.description)")
            #expect(error.description.contains("REDIS_URL"), "the error names the setting: \(error.description)")
        }
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
