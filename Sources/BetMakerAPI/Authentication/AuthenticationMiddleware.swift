import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import RedisClient

/// Finds out who is calling: a bearer token in `Authorization`, or the session cookie the web UI
/// holds. A request with neither is anonymous; one with a bad token is refused (401), never treated
/// as anonymous, so a client with an expired token hears about it. The user is read from Redis on
/// every request, so disabling a user ends their tokens at once (403), and with it whether the token
/// was revoked (`DELETE /auth`: 401).
///
/// A browser sends the cookie with any request to this origin, a forged cross-site one too, so a
/// state-changing request authenticated by the cookie must also pass `CrossSiteRequestCheck`
/// (403 `csrf` otherwise); bearer tokens are never sent by a browser on its own and are unaffected.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let tokens: TokenAuthority
    let accounts: AccountStore
    let crossSite: CrossSiteRequestCheck

    static let cookieName = "betmaker_token"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let credential = try Self.credential(in: request) else { return try await next(request, context) }
        // Before the token is even verified: a forged request learns nothing and changes nothing.
        if credential.fromCookie { try crossSite.check(request) }
        let token = credential.token
        let verified: TokenAuthority.Verified
        do {
            verified = try await tokens.verify(token)
        } catch {
            context.logger.info("Refused an access token", metadata: ["reason": "\(error)"])
            throw Problem.invalidToken()
        }
        let found: User?
        do {
            let session = try await accounts.session(userID: verified.userID, tokenID: verified.tokenID)
            if session.revoked { throw Problem.invalidToken("This access token was revoked (logged out); log in again.") }
            found = session.user
        } catch let error as RedisError where error.isConnectivity {
            // Only this read has been sent, so nothing changed, whatever became of it: a retry is safe.
            context.logger.warning("Redis unavailable", metadata: ["error": "\(error)"])
            throw Problem.redisUnavailable()
        }
        guard let user = found else { throw Problem.invalidToken() }
        switch user.status {
        case .active: break
        case .disabled: throw Problem.accountDisabled()
        case .pending: throw Problem.accountNotActivated()
        }
        var context = context
        context.identity = Identity(user: user)
        context.logger[metadataKey: "user_id"] = .string(String(user.id))
        return try await next(request, context)
    }

    /// The bearer token (`fromCookie` false), else the session cookie's value (true), else nil.
    static func credential(in request: Request) throws(Problem) -> (token: String, fromCookie: Bool)? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
                throw Problem.invalidToken("Send the token as Authorization: Bearer <token>.")
            }
            return (String(parts[1]).trimmingSpaces, false)
        }
        return sessionCookie(in: request).map { ($0, true) }
    }

    /// The session cookie's value, if the request carries it.
    static func sessionCookie(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let nameAndValue = pair.split(separator: "=", maxSplits: 1)
                if nameAndValue.count == 2, nameAndValue[0].trimmingSpaces == cookieName {
                    return String(nameAndValue[1].trimmingSpaces)
                }
            }
        }
        return nil
    }
}
