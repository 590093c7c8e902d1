import BetMaker
import BetMakerRuntime
import Crypto
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import JWTKit
import Logging
import NIOPosix
import RedisClient
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Issues and checks the API's access tokens: JWTs signed with HS256 (RFC 7519, RFC 8725). Only
/// HS256 is accepted, whatever a token's header claims; `exp`, `iat` and `sub` must be there and
/// valid.
public final class TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    /// The HS256 key itself: verifying through it and jwt-kit's parser, rather than through the key
    /// collection (an actor), keeps every request's check off one shared executor.
    private let algorithm: any JWTAlgorithm
    private let parser = DefaultJWTParser()
    /// Tokens that passed every check, with their user and expiry: a client sends the same token
    /// for its whole lifetime, and decoding it again each time was a sixth of a bet's CPU. Bounded;
    /// emptied when full.
    private let verified = Mutex<[String: (userID: Int, expires: Date)]>([:])
    static let verifiedCapacity = 10_000
    public let lifetime: Duration

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    public enum TokenError: Error, Equatable {
        case malformed
        /// The header names an algorithm other than HS256 (`none` included).
        case algorithmNotAllowed(String)
        /// A bad signature, an expired token, a missing or malformed claim.
        case rejected
    }

    public init(secret: [UInt8], lifetime: Duration) async throws {
        self.keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.algorithm = try await keys.getKey()
        self.lifetime = lifetime
    }

    /// A token for the user, and its lifetime in seconds.
    public func issue(userID: Int) async throws -> (token: String, expiresIn: Int) {
        // Whole seconds: NumericDate may have fractions, but not every JWT library reads them.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let seconds = Int(lifetime.components.seconds)
        let claims = Claims(
            sub: SubjectClaim(value: String(userID)), iat: IssuedAtClaim(value: now),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(seconds))))
        return (try await keys.sign(claims, header: ["alg": "HS256", "typ": "JWT"]), seconds)
    }

    /// The user id a valid token was issued to.
    public func verify(_ token: String) async throws(TokenError) -> Int {
        let now = Date()
        if let known = verified.withLock({ $0[token] }), known.expires > now { return known.userID }
        let parsed: (header: JWTHeader, payload: Claims, signature: Data)
        do {
            parsed = try parser.parse(Array(token.utf8), as: Claims.self)
        } catch {
            throw .malformed
        }
        // The algorithm is pinned before the signature is looked at (RFC 8725).
        guard parsed.header.alg == "HS256" else { throw .algorithmNotAllowed(parsed.header.alg ?? "none") }
        let claims = parsed.payload
        do {
            // A parsed token has its three parts; the signature covers the first two.
            let signingInput = token.utf8.prefix(upTo: token.utf8.lastIndex(of: UInt8(ascii: "."))!)
            guard try algorithm.verify(parsed.signature, signs: Array(signingInput)) else { throw TokenError.rejected }
            try await claims.verify(using: algorithm)
        } catch {
            throw .rejected
        }
        // A token from the future is forged or from a broken clock; a minute of skew is tolerated.
        guard claims.iat.value.timeIntervalSinceNow < 60, let userID = Int(claims.sub.value), userID > 0 else { throw .rejected }
        verified.withLock { cache in
            if cache.count >= Self.verifiedCapacity { cache.removeAll(keepingCapacity: true) }
            cache[token] = (userID, claims.exp.value)
        }
        return userID
    }
}

/// Password hashing with bcrypt. It costs tens of milliseconds of CPU by design, so it runs on NIO's
/// blocking thread pool, never on an event loop or Swift's cooperative threads, which serve every
/// other request.
public struct Passwords: Sendable {
    public let cost: Int
    /// A hash of the same cost that no password matches, checked when a login does not exist so that
    /// unknown and known logins take the same time.
    private let decoy: String

    public init(cost: Int) async throws {
        self.cost = cost
        let text = Base64URL.encode(randomBytes(24))
        self.decoy = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(text, cost: UInt8(cost)) }
    }

    /// Passwords are 8 to 72 characters (Unicode code points, as JSON Schema counts them).
    public static let minimumCharacters = 8
    public static let maximumCharacters = 72
    /// bcrypt reads at most 72 bytes and ignores the rest.
    static let bcryptBytes = 72

    /// What bcrypt is given: the password itself when it fits bcrypt's 72 bytes (every ASCII
    /// password, and every hash made before this rule), else the base64url of its SHA-256, as
    /// passlib's `bcrypt_sha256` does, so that no character of a long non-ASCII password is ignored.
    static func bcryptInput(_ password: String) -> String {
        password.utf8.count <= bcryptBytes ? password : Base64URL.encode(Array(SHA256.hash(data: Array(password.utf8))))
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        let input = Self.bcryptInput(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    /// Checks `password` against `hash`, or against the decoy when there is no user.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let decoy = decoy
        let input = Self.bcryptInput(password)
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash ?? decoy) }
        return matches && hash != nil
    }
}

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
