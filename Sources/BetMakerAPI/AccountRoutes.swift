import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import RedisClient

/// Registration, activation, logging in and out, and a user's own view of their accounts:
/// `POST /users`, `GET /users/activate/{token}`, `POST /auth`, `DELETE /auth`, `GET /users/me`,
/// `GET /accounts/{account_id}`.
struct AccountRoutes {
    let accounts: AccountStore
    let passwords: Passwords
    let tokens: TokenAuthority
    let settings: Settings

    func register(public router: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        router.post("/users", use: registerUser)
        router.get("/users/activate/{token}", use: activate)
        router.post("/auth", use: logIn)
        router.delete("/auth", use: logOut)
        authenticated.get("/users/me", use: me)
        authenticated.get("/accounts/{account_id}", use: account)
    }

    private var baseURL: String { settings.publicBaseURL ?? "http://\(settings.host):\(settings.port)" }

    /// Login and password from a body: the same checks for registering and logging in.
    private func credentials(_ request: Request, context: APIRequestContext) async throws -> (login: String, password: String) {
        var errors: [Problem.FieldError] = []
        let fields = try Input.object(
            try await Input.json(request, limit: settings.maximumBodyBytes), allowed: ["login", "password"], errors: &errors)
        let login = Input.text(fields["login"], field: "login", maximumLength: 64).collect(into: &errors)
        if let login, !Login.isValid(login) { errors.append(.init("login", "must be \(Login.rule)")) }
        let password = Input.text(fields["password"], field: "password", maximumLength: Passwords.maximumCharacters).collect(into: &errors)
        if let password, password.unicodeScalars.count < Passwords.minimumCharacters {
            errors.append(.init("password", "must be \(Passwords.minimumCharacters) to \(Passwords.maximumCharacters) characters long"))
        }
        guard let login, let password, errors.isEmpty else { throw Problem.validation(errors) }
        return (login, password)
    }

    @Sendable func registerUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (login, password) = try await credentials(request, context: context)
        let taken = Problem.conflict(
            "login-taken", title: "The login is taken", detail: "Another user has the login \(login); choose another.")
        // Cheap early answer; the registration script decides atomically.
        if try await accounts.isLoginTaken(login) { throw taken }
        let hash = try await passwords.hash(password)
        switch try await accounts.register(login: login, passwordHash: hash) {
        case .loginTaken:
            throw taken
        case .created(let user, _, let token):
            context.logger.info("User registered", metadata: ["user_id": "\(user.id)"])
            return .json(.created) { json in
                json.beginObject()
                json.key("user")
                user.write(to: &json)
                json.field("activation_url", "\(baseURL)/users/activate/\(token ?? "")")
                json.endObject()
            }
        }
    }

    @Sendable func activate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let token = try context.parameter("token")
        let invalid = Problem.notFound("This activation link is unknown, used or expired.")
        // Tokens are 43 base64url characters; anything else is not worth a look in Redis.
        guard token.utf8.count == 43, Base64URL.decode(token) != nil else { throw invalid }
        let outcome: AccountStore.ActivationOutcome
        do {
            outcome = try await accounts.activate(token: token)
        } catch let error as RedisError where error.isConnectivity && error.mayHaveRun {
            // The one GET that writes: the account may be active now, and the link then used up.
            throw Problem.outcomeUnknown(
                "The bet store stopped answering after the request was sent, so the account may have been activated. "
                    + "Try to log in; if that says the account is not activated, follow the link again.")
        }
        switch outcome {
        case .activated(let user):
            context.logger.info("User activated", metadata: ["user_id": "\(user.id)"])
            return .json { json in
                json.beginObject()
                json.key("user")
                user.write(to: &json)
                json.endObject()
            }
        case .alreadyActive:
            throw Problem.conflict("already-active", title: "Already active", detail: "This account is active already; log in.")
        case .disabled:
            throw Problem.accountDisabled()
        case .invalid:
            throw invalid
        }
    }

    @Sendable func logIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (login, password) = try await credentials(request, context: context)
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

    @Sendable func me(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        var errors: [Problem.FieldError] = []
        let page = Input.page(request, defaultLimit: 50, isValidCursor: AccountStore.isValidLedgerCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let user = identity.user
        let userAccounts = try await accounts.accounts(userID: user.id)
        let ledger = try await accounts.transactions(userID: user.id, limit: page.limit, before: page.cursor)
        var headers: HTTPFields = [:]
        if let next = ledger.nextCursor { headers[.link] = Input.nextLink("/users/me", limit: page.limit, cursor: next) }
        return .json(headers: headers, capacity: 512 + ledger.transactions.count * 200) { json in
            json.beginObject()
            json.key("user")
            user.write(to: &json)
            json.key("accounts")
            json.beginArray()
            for account in userAccounts { account.write(to: &json) }
            json.endArray()
            json.key("transactions")
            json.beginArray()
            for transaction in ledger.transactions { transaction.write(to: &json) }
            json.endArray()
            json.endObject()
        }
    }

    /// One of the caller's accounts with its transactions; another user's account is 404, as if it
    /// did not exist.
    @Sendable func account(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let text = try context.parameter("account_id")
        var errors: [Problem.FieldError] = []
        let page = Input.page(request, defaultLimit: 50, isValidCursor: AccountStore.isValidLedgerCursor, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        guard let accountID = Int(decimalDigits: text), accountID > 0,
            let account = try await accounts.accounts(userID: identity.userID).first(where: { $0.id == accountID })
        else {
            throw Problem.notFound("You have no account \(text).")
        }
        let ledger = try await accounts.transactions(userID: identity.userID, accountID: accountID, limit: page.limit, before: page.cursor)
        var headers: HTTPFields = [:]
        if let next = ledger.nextCursor {
            headers[.link] = Input.nextLink("/accounts/\(accountID)", limit: page.limit, cursor: next)
        }
        return .json(headers: headers, capacity: 256 + ledger.transactions.count * 200) { json in
            json.beginObject()
            json.field("id", account.id)
            json.field("balance", account.balance.description)
            json.key("transactions")
            json.beginArray()
            for transaction in ledger.transactions { transaction.write(to: &json) }
            json.endArray()
            json.endObject()
        }
    }
}
