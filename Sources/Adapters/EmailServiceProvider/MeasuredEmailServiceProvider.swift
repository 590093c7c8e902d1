import BetMaker
import BetMakerRuntime
import Metrics
import RedisClient

/// Any ESP with metrics by operation (`lookup`, `create`, `erase`): `esp_calls_total`,
/// `esp_call_errors_total{kind}` (`timeout`, `unavailable`, `rate_limited`, `refused`) and
/// `esp_call_duration_seconds`.
public struct MeasuredEmailServiceProvider: EmailServiceProvider {
    let base: any EmailServiceProvider

    public init(_ base: any EmailServiceProvider) {
        self.base = base
    }

    /// The configured ESP, measured, as the API and the worker both use it: the Mailchimp-shaped
    /// client when `ESP_URL` is set (with `ESP_LIST_ID`, `ESP_API_KEY`, `ESP_TIMEOUT_MS` and
    /// `ESP_STATUS_IF_NEW`), else the
    /// simulated one in Redis.
    public static func configured(settings: Settings, redis: RedisClient) -> MeasuredEmailServiceProvider {
        guard let url = settings.espURL, let listID = settings.espListID, let apiKey = settings.espAPIKey else {
            return MeasuredEmailServiceProvider(SimulatedEmailServiceProvider(redis: redis, keys: settings.keys))
        }
        var configuration = MailchimpClient.Configuration(baseURL: url, listID: listID, apiKey: apiKey)
        configuration.timeout = settings.espTimeout
        configuration.statusIfNew = settings.espStatusIfNew
        return MeasuredEmailServiceProvider(MailchimpClient(configuration: configuration))
    }

    public func hasContact(_ address: EmailAddress, timeout: Duration) async throws -> Bool {
        try await measure("lookup") { try await base.hasContact(address, timeout: timeout) }
    }

    public func createContact(_ address: EmailAddress) async throws {
        try await measure("create") { try await base.createContact(address) }
    }

    public func eraseContact(subscriberHash: String) async throws {
        try await measure("erase") { try await base.eraseContact(subscriberHash: subscriberHash) }
    }

    private func measure<T: Sendable>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        Counter(label: "esp_calls_total", dimensions: [("operation", operation)]).increment()
        let started = ContinuousClock.now
        defer {
            let elapsed = (ContinuousClock.now - started).components
            Timer(label: "esp_call_duration_seconds", dimensions: [("operation", operation)])
                .recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        }
        do {
            return try await body()
        } catch {
            let kind = (error as? EmailServiceError)?.kind ?? "other"
            Counter(label: "esp_call_errors_total", dimensions: [("operation", operation), ("kind", kind)]).increment()
            throw error
        }
    }
}
