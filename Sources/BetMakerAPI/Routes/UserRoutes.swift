import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging
import RedisClient

/// `/users`: registering (`POST /users`), following the activation link (`GET /users/activate/{token}`)
/// and a user's own view of themselves, their accounts and their transactions (`GET /users/me`).
struct UserRoutes {
    let accounts: AccountStore
    let passwords: Passwords
    let limiter: ClientLimiter
    let settings: Settings

    func register(public users: some RouterMethods<APIRequestContext>, authenticated: some RouterMethods<APIRequestContext>) {
        users.post(use: registerUser)
        users.get("activate/{token}", use: activate)
        authenticated.get("me", use: me)
    }

    private var baseURL: String { settings.publicBaseURL ?? "http://\(settings.host):\(settings.port)" }

    /// Costs a bcrypt hash, so it draws from the client's bucket of password requests, as logging in
    /// does, and waits for a hashing slot (503 when none is free soon).
    @Sendable func registerUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try await limiter.admit(.passwords, request, context: context)
        let (login, password) = try await Input.credentials(request, limit: settings.maximumBodyBytes)
        let taken = Problem.conflict(
            "login-taken", title: "The login is taken", detail: "Another user has the login \(login); choose another.")
        // Cheap early answer; the registration script decides atomically.
        if try await accounts.isLoginTaken(login) { throw taken }
        let hash: String
        do {
            hash = try await passwords.hash(password)
        } catch let busy as Passwords.Busy {
            throw Problem.passwordHashingBusy(retryAfter: busy.retryAfter)
        }
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

    @Sendable func me(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let page = try Input.page(request, defaultLimit: 50, isValidCursor: AccountStore.isValidLedgerCursor)
        let user = identity.user
        let userAccounts = try await accounts.accounts(userID: user.id)
        let ledger = try await accounts.transactions(userID: user.id, limit: page.limit, before: page.cursor)
        var headers: HTTPFields = [:]
        if let next = ledger.nextCursor { headers[.link] = Input.nextLink("/users/me", limit: page.limit, cursor: next) }
        return .json(headers: headers, capacity: 512 + ledger.transactions.count * 200) { json in
            json.beginObject()
            user.writeMembers(accounts: userAccounts, to: &json)
            json.key("transactions")
            json.beginArray()
            for transaction in ledger.transactions { transaction.write(to: &json) }
            json.endArray()
            json.endObject()
        }
    }
}
