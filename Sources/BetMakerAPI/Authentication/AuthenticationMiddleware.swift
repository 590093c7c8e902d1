import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import RedisClient

/// Finds out who is calling: a bearer token in `Authorization`, or the session cookie the web UI
/// holds. A request with neither is anonymous; one with a bad token is refused (401), never treated
/// as anonymous, so a client with an expired token hears about it. The user is read from Redis on
/// every request, so disabling a user ends their tokens at once (403).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let tokens: TokenAuthority
    let accounts: AccountStore

    static let cookieName = "betmaker_token"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = try Self.token(in: request) else { return try await next(request, context) }
        let userID: Int
        do {
            userID = try await tokens.verify(token)
        } catch {
            context.logger.info("Refused an access token", metadata: ["reason": "\(error)"])
            throw Problem.invalidToken()
        }
        let found: User?
        do {
            found = try await accounts.user(id: userID)
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

    /// The bearer token, else the session cookie's value, else nil.
    static func token(in request: Request) throws(Problem) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
                throw Problem.invalidToken("Send the token as Authorization: Bearer <token>.")
            }
            return String(parts[1]).trimmingSpaces
        }
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let nameAndValue = pair.split(separator: "=", maxSplits: 1)
                if nameAndValue.count == 2, nameAndValue[0].trimmingSpaces == cookieName {
                    return nameAndValue[1].trimmingSpaces
                }
            }
        }
        return nil
    }
}
