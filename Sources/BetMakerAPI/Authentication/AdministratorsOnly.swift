import Hummingbird

/// Lets only administrators through: 401 without a token, 403 with a player's. The `/admin` group
/// has it, after `AuthenticationMiddleware`, so no route there can forget the check.
struct AdministratorsOnly: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        _ = try context.requireAdmin()
        return try await next(request, context)
    }
}
