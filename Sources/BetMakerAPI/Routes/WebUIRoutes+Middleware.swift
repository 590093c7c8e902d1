import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird

/// `make bench`: the my-bets page of `bets` rendered as the route renders it, for `player`.
public enum WebUIBenchmark {
    public static func renderMyBets(_ bets: [Bet], player: User) throws -> Int {
        let values = WebUIRoutes.betsPage(bets, next: bets.last.map { "\($0.id)" }, status: nil, balance: "1000.00")
        let response = try WebUIRoutes.page("bets", title: "My bets", identity: Identity(user: player), values, live: "bets")
        return response.body.contentLength ?? 0
    }
}

/// On every `/ui` response: the security headers, and a refusal shown as a page rather than as
/// problem+json: no session (or a stale one) sends the browser to the login page, anything else
/// (a disabled account, an operator page for a player, an error) is a page that says why, with the
/// problem's status.
struct WebUIMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// No inline script or style, nothing from another origin, no framing, forms only to here.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as Problem where problem.status == .unauthorized {
            response = WebUIRoutes.redirect("/ui/login")
        } catch let problem as Problem {
            response = try WebUIRoutes.page(
                "error", title: problem.title, status: problem.status, identity: context.identity,
                ["slug": problem.slug, "detail": problem.detail])
        }
        Self.secure(&response.headers, isAsset: request.uri.path.hasPrefix("/ui/assets/"))
        return response
    }

    static func secure(_ headers: inout HTTPFields, isAsset: Bool) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        // Pages show personal data: never stored by the browser or a proxy.
        if !isAsset { headers[.cacheControl] = "no-store" }
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
