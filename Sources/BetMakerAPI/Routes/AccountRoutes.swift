import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird

/// `/accounts/{account_id}`: one of the caller's accounts with its transactions.
struct AccountRoutes {
    let accounts: AccountStore

    func register(authenticated: some RouterMethods<APIRequestContext>) {
        authenticated.get("{account_id}", use: account)
    }

    /// One of the caller's accounts with its transactions; another user's account is 404, as if it
    /// did not exist.
    @Sendable func account(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.requireUser()
        let text = try context.parameter("account_id")
        let page = try Input.page(request, defaultLimit: 50, isValidCursor: AccountStore.isValidLedgerCursor)
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
