import BetMaker
import Crypto
import HummingbirdBcrypt
import NIOPosix

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
