import BetMaker
import JWTKit
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Issues and checks the API's access tokens: JWTs signed with HS256 (RFC 7519, RFC 8725). Only
/// HS256 is accepted, whatever a token's header claims; `exp`, `iat`, `sub` and `jti` must be there
/// and valid. `jti` (random, 128 bits) names the token, so that `DELETE /auth` can revoke it.
public final class TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    /// The HS256 key itself: verifying through it and jwt-kit's parser, rather than through the key
    /// collection (an actor), keeps every request's check off one shared executor.
    private let algorithm: any JWTAlgorithm
    private let parser = DefaultJWTParser()
    /// Tokens that passed every check, with their user and expiry: a client sends the same token
    /// for its whole lifetime, and decoding it again each time was a sixth of a bet's CPU. Bounded;
    /// emptied when full.
    private let verified = Mutex<[String: Verified]>([:])
    static let verifiedCapacity = 10_000
    public let lifetime: Duration

    /// What a valid token says: its user, its id and when it expires (ms since 1970).
    public struct Verified: Sendable, Equatable {
        public let userID: Int
        public let tokenID: String
        public let expiresAt: Int64
    }

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var jti: IDClaim

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
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(seconds))), jti: IDClaim(value: Self.newTokenID()))
        return (try await keys.sign(claims, header: ["alg": "HS256", "typ": "JWT"]), seconds)
    }

    /// 22 base64url characters of randomness.
    static func newTokenID() -> String { Base64URL.encode(randomBytes(16)) }

    static func isValidTokenID(_ id: String) -> Bool {
        id.utf8.count == 22 && Base64URL.decode(id) != nil
    }

    /// Who a valid token was issued to, and which token it is.
    public func verify(_ token: String) async throws(TokenError) -> Verified {
        let now = Date()
        if let known = verified.withLock({ $0[token] }), Double(known.expiresAt) > now.timeIntervalSince1970 * 1000 { return known }
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
        guard claims.iat.value.timeIntervalSinceNow < 60, let userID = Int(claims.sub.value), userID > 0,
            Self.isValidTokenID(claims.jti.value)
        else { throw .rejected }
        let result = Verified(
            userID: userID, tokenID: claims.jti.value, expiresAt: Int64((claims.exp.value.timeIntervalSince1970 * 1000).rounded(.down)))
        verified.withLock { cache in
            if cache.count >= Self.verifiedCapacity { cache.removeAll(keepingCapacity: true) }
            cache[token] = result
        }
        return result
    }
}
