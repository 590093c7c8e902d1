import HTTPTypes
import Hummingbird

/// The CSRF rule for requests authenticated by the session cookie: a state-changing one (anything
/// but GET, HEAD and OPTIONS) must carry `X-Requested-With: bet-maker` and come from this API's own
/// origin. `SameSite=Strict` already keeps the cookie off cross-site requests in today's browsers;
/// this holds without it. A cross-site HTML form cannot set a custom header, and a cross-site
/// script that tries makes the browser ask for a CORS preflight, which this API never grants. The
/// origin is the `Origin` header, or, when a browser leaves that out, `Sec-Fetch-Site: same-origin`.
///
/// The API's own origin is `PUBLIC_BASE_URL`'s when that is set (behind a proxy it is what browsers
/// see); otherwise the `Origin` must name the host the request was sent to (`Host`), whatever its
/// scheme, so `make run` and the tests work on any port (HTTP/1's `Host` arrives as the request's
/// authority). A forger cannot choose either header: the browser sets both.
struct CrossSiteRequestCheck: Sendable {
    static let header = HTTPField.Name("X-Requested-With")!
    static let headerValue = "bet-maker"

    /// `scheme://host[:port]` of `PUBLIC_BASE_URL`, lower case; nil to compare with `Host`.
    let publicOrigin: String?

    init(publicBaseURL: String?) {
        publicOrigin = publicBaseURL.map { url in
            // The origin is the URL up to its path.
            let schemeEnd = url.firstRange(of: "://").map(\.upperBound) ?? url.startIndex
            let pathStart = url[schemeEnd...].firstIndex(of: "/") ?? url.endIndex
            return url[..<pathStart].lowercased()
        }
    }

    func check(_ request: Request) throws(Problem) {
        switch request.method {
        case .get, .head, .options: return
        default: break
        }
        guard request.headers[Self.header] == Self.headerValue else {
            throw Self.refused("A request authenticated by the session cookie must send X-Requested-With: bet-maker.")
        }
        if let origin = request.headers[.origin] {
            guard isOwn(origin: origin.lowercased(), host: request.head.authority?.lowercased()) else {
                throw Self.refused("The request comes from \(origin), not from this site.")
            }
        } else if request.headers[.secFetchSite] != "same-origin" {
            throw Self.refused("A request authenticated by the session cookie must come from this site (Origin).")
        }
    }

    private func isOwn(origin: String, host: String?) -> Bool {
        if let publicOrigin { return origin == publicOrigin }
        guard let host, let schemeEnd = origin.firstRange(of: "://") else { return false }
        return origin[schemeEnd.upperBound...] == host
    }

    static func refused(_ detail: String) -> Problem {
        Problem(.forbidden, "csrf", title: "Cross-site request refused", detail: detail)
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
