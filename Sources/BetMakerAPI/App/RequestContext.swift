import BetMaker
import Hummingbird
import Logging
import NIOCore

/// The context of one API request: Hummingbird's core, the request id the response echoes, and who
/// is calling.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller's `X-Request-Id` when it sent a usable one, otherwise Hummingbird's own.
    public var requestID: String
    /// The user of a valid access token; nil for an anonymous request.
    public var identity: Identity?
    /// The connection, whose peer is the client unless a trusted proxy says otherwise (`ClientAddress`).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.identity = nil
        self.channel = source.channel
    }

    /// The caller, or 401 when the request carries no token.
    func requireUser() throws(Problem) -> Identity {
        guard let identity else { throw Problem.authenticationRequired() }
        return identity
    }

    /// A path parameter, percent-decoded once (RFC 3986): Hummingbird hands parameters over as sent,
    /// so `/events/nba%3A2026` would otherwise name the event `nba%3A2026`. Every route reads its path
    /// parameters through here. An invalid encoding (`%zz`, a lone `%`, bytes that are not UTF-8) is a
    /// 422 naming the parameter.
    func parameter(_ name: String) throws(Problem) -> String {
        let raw = parameters.get(name) ?? ""
        guard let decoded = Input.percentDecoded(raw) else {
            throw Problem.validation(name, "is not validly percent-encoded UTF-8")
        }
        return decoded
    }

    /// An administrator, or 401 without a token and 403 with a player's.
    func requireAdmin() throws(Problem) -> Identity {
        let identity = try requireUser()
        guard identity.role == .admin else { throw Problem.forbidden("This needs an administrator's token.") }
        return identity
    }
}

/// Who a valid access token belongs to, as read from Redis for this request (so a role change or a
/// disabled account takes effect at once).
public struct Identity: Sendable, Equatable {
    public let user: User

    public var userID: Int { user.id }
    public var role: Role { user.role }
}
