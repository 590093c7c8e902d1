import BetMaker
import HTTPTypes
import Hummingbird
import Logging

/// The per-client token buckets of the public requests that cost the most (docs/decisions/0281): a
/// password's bcrypt hash (`POST /auth`, `POST /users`) and a play, whose new address costs an ESP
/// lookup and a confirmation email (`POST /plays`). Taken before the body is read, so a refused
/// request costs one Redis script.
struct ClientLimiter: Sendable {
    let rateLimits: RateLimits
    /// The header a trusted reverse proxy names the client in (`ClientAddress`).
    let trustedProxyHeader: HTTPField.Name?
    let passwords: RateLimit
    let plays: RateLimit

    /// The request's client address, once it has taken a token of its bucket; 429 when it is empty.
    func admit(_ bucket: RateLimits.Bucket, _ request: Request, context: APIRequestContext) async throws -> String {
        let client = ClientAddress.of(request, context: context, trustedHeader: trustedProxyHeader)
        let limit =
            switch bucket {
            case .passwords: passwords
            case .plays: plays
            }
        if let wait = try await rateLimits.take(bucket, client: client, limit: limit) {
            context.logger.info("Rate limited", metadata: ["bucket": "\(bucket.rawValue)", "client": "\(client)"])
            throw Problem.rateLimited(bucket, retryAfter: wait)
        }
        return client
    }
}
