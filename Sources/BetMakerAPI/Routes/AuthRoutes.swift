import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/auth`: logging in (`POST /auth`, a bearer token, or with `?cookie=true` the web UI's cookie) and
/// out (`DELETE /auth`, which clears the cookie).
struct AuthRoutes {
    let accounts: AccountStore
    let passwords: Passwords
    let tokens: TokenAuthority
    let settings: Settings

    func register(on auth: some RouterMethods<APIRequestContext>) {
        auth.post(use: logIn)
        auth.delete(use: logOut)
    }

    @Sendable func logIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (login, password) = try await Input.credentials(request, limit: settings.maximumBodyBytes)
        // Counted before the password is checked, so parallel guesses cannot get more checks than the
        // limit between them; a success starts the count again.
        let attempt = try await accounts.countLoginAttempt(login, window: settings.loginLockout)
        if attempt.attempts > settings.loginMaxFailures {
            throw Problem.tooManyLoginAttempts(retryAfter: attempt.windowLeft)
        }
        let found = try await accounts.credentials(login: login)
        // The same work and the same answer whether or not the login exists.
        guard try await passwords.verify(password, hash: found?.passwordHash), let user = found?.user else {
            context.logger.info("Failed login", metadata: ["login": "\(Login.normalized(login))"])
            throw Problem.invalidCredentials()
        }
        try await accounts.clearLoginAttempts(login)
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

    /// Ends a cookie session (the cookie is cleared). Bearer tokens simply expire.
    @Sendable func logOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        let cookie = "\(AuthenticationMiddleware.cookieName)=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict"
        return Response(status: .noContent, headers: [.setCookie: cookie])
    }
}
