import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/auth`: logging in (`POST /auth`, a bearer token, or with `?cookie=true` the web UI's cookie) and
/// out (`DELETE /auth`, which revokes the token and clears the cookie).
///
/// Logging in is limited three ways before a password is checked (docs/decisions/0281, 0282): the
/// client address's bucket of password requests, the client's failures at this login, and the login's
/// failures from all clients together; and the check itself waits for a hashing slot (0283).
struct AuthRoutes {
    let accounts: AccountStore
    let passwords: Passwords
    let tokens: TokenAuthority
    let limiter: ClientLimiter
    let attempts: LoginAttempts
    let crossSite: CrossSiteRequestCheck
    let settings: Settings

    func register(on auth: some RouterMethods<APIRequestContext>) {
        auth.post(use: logIn)
        auth.delete(use: logOut)
    }

    @Sendable func logIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let client = try await limiter.admit(.passwords, request, context: context)
        let (login, password) = try await Input.credentials(request, limit: settings.maximumBodyBytes)
        // Counted before the password is checked, so parallel guesses cannot get more checks than the
        // limits between them; a success starts the client's count again.
        switch try await attempts.begin(login, client: client) {
        case .allowed: break
        case .locked(let retryAfter): throw Problem.tooManyLoginAttempts(retryAfter: retryAfter)
        case .throttled(let retryAfter):
            context.logger.warning("Login throttled: failures from many clients", metadata: ["login": "\(Login.normalized(login))"])
            throw Problem.loginThrottled(retryAfter: retryAfter)
        }
        let found = try await accounts.credentials(login: login)
        let matches: Bool
        do {
            // The same work and the same answer whether or not the login exists.
            matches = try await passwords.verify(password, hash: found?.passwordHash)
        } catch let busy as Passwords.Busy {
            try await attempts.unchecked(login, client: client)
            throw Problem.passwordHashingBusy(retryAfter: busy.retryAfter)
        }
        guard matches, let user = found?.user else {
            context.logger.info("Failed login", metadata: ["login": "\(Login.normalized(login))", "client": "\(client)"])
            throw Problem.invalidCredentials()
        }
        try await attempts.succeeded(login, client: client)
        switch user.status {
        case .active: break
        case .pending: throw Problem.accountNotActivated()
        case .disabled: throw Problem.accountDisabled()
        }
        let (token, expiresIn) = try await tokens.issue(userID: user.id)
        if request.uri.queryParameters.get("cookie") == "true" {
            // The web UI: the token goes into a cookie scripts cannot read, and not into the body.
            let cookie = "\(AuthenticationMiddleware.cookieName)=\(token); Max-Age=\(expiresIn); Path=/; HttpOnly; Secure; SameSite=Strict"
            return .json(headers: [.setCookie: cookie]) { json in
                json.beginObject()
                json.field("token_type", "cookie")
                json.field("expires_in", expiresIn)
                json.endObject()
            }
        }
        return .json(headers: [.cacheControl: "no-store"]) { json in
            json.beginObject()
            json.field("access_token", token)
            json.field("token_type", "bearer")
            json.field("expires_in", expiresIn)
            json.endObject()
        }
    }

    /// Ends a session: the token sent (bearer or cookie) is revoked until it would have expired, and
    /// the cookie cleared. A token that is invalid or expired already needs nothing; a malformed
    /// `Authorization` header is refused, since the client would think a token revoked that is not.
    @Sendable func logOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        if let credential = try AuthenticationMiddleware.credential(in: request) {
            if credential.fromCookie { try crossSite.check(request) }
            if let token = try? await tokens.verify(credential.token) {
                try await accounts.revoke(userID: token.userID, tokenID: token.tokenID, expiresAt: token.expiresAt)
                context.logger.info("Logged out", metadata: ["user_id": "\(token.userID)"])
            }
        }
        let cookie = "\(AuthenticationMiddleware.cookieName)=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict"
        return Response(status: .noContent, headers: [.setCookie: cookie])
    }
}
