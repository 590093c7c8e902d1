import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import Logging

/// `/admin/contacts`: the email contacts with their play counts, linked users and ESP sync state, and
/// erasing one. Administrators only (the `/admin` group's `AdministratorsOnly`).
struct ContactRoutes {
    let contacts: ContactStore

    func register(admin routes: some RouterMethods<APIRequestContext>) {
        routes.get(use: list)
        routes.delete("{email}", use: erase)
    }

    /// By address, paged; the cursor is the last address of the previous page.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try Input.page(request, isValidCursor: { EmailAddress(normalizing: $0)?.value == $0 })
        let (found, next) = try await contacts.contacts(limit: page.limit, after: page.cursor)
        var headers: HTTPFields = [:]
        if let next { headers[.link] = Input.nextLink("/admin/contacts", limit: page.limit, cursor: Input.percentEncoded(next)) }
        return .json(headers: headers, capacity: 64 + found.count * 300) { json in
            json.beginArray()
            for contact in found { contact.write(to: &json) }
            json.endArray()
        }
    }

    /// Erases the contact here and queues its erasure at the ESP: 204. An address that is not stored
    /// (or is no address) is 404.
    @Sendable func erase(_ request: Request, context: APIRequestContext) async throws -> Response {
        let text = try context.parameter("email")
        guard let address = EmailAddress(normalizing: text.trimmingSpaces), try await contacts.erase(address) else {
            throw Problem.notFound("There is no contact with that address.")
        }
        context.logger.notice("Contact erased; its erasure at the ESP is queued", metadata: ["contact": "\(address.masked)"])
        return Response(status: .noContent)
    }
}
