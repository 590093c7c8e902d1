import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird

/// `GET /admin/traders`: the users with the trader role (the traders index), by id, with their login
/// and status: whom an event can be assigned to. Administrators only, like the rest of `/admin`.
extension AdminRoutes {
    func register(traders: some RouterMethods<APIRequestContext>) {
        traders.get(use: listTraders)
    }

    @Sendable func listTraders(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try Input.page(request, isValidCursor: { Int(decimalDigits: $0).map { $0 > 0 } ?? false })
        let (traders, next) = try await accounts.traders(limit: page.limit, after: page.cursor.flatMap { Int(decimalDigits: $0) })
        var headers: HTTPFields = [:]
        if let next { headers[.link] = Input.nextLink("/admin/traders", limit: page.limit, cursor: String(next)) }
        return .json(headers: headers, capacity: 64 + traders.count * 80) { json in
            json.beginArray()
            for trader in traders {
                json.beginObject()
                json.field("id", trader.id)
                json.field("login", trader.login)
                json.field("status", trader.status.rawValue)
                json.endObject()
            }
            json.endArray()
        }
    }
}
