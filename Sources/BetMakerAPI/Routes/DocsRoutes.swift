import HTTPTypes
import Hummingbird
import NIOCore

/// `/openapi.json`: the contract, served from the binary; `/docs`: a page that shows it to a person
/// with Swagger UI, whose script and style come from a CDN; `/docs/init.js`: the page's own script.
///
/// The page shares its origin with the web UI's session cookie, so a script it runs could act as the
/// logged-in user. It therefore runs only what it names exactly: Swagger UI at a pinned version with
/// Subresource Integrity (the browser refuses bytes with another hash), and its start-up code from
/// this server, not inline, under a Content-Security-Policy that allows nothing else
/// (docs/ARCHITECTURE.md, "The API contract", says how the hashes were made and how to update them).
struct DocsRoutes {
    static let swaggerUIVersion = "5.33.1"
    static let cdn = "https://cdn.jsdelivr.net"
    static let swaggerUIBase = "\(cdn)/npm/swagger-ui-dist@\(swaggerUIVersion)"
    /// `openssl dgst -sha384 -binary <file> | base64` of swagger-ui-dist 5.33.1's files.
    static let bundleIntegrity = "sha384-ZPehFMQommnnuaZ4rpxgkgTT2DKFVp4hZC/7pLit+9Lek9T1YGSo23eHFbvNkXkw"
    static let styleIntegrity = "sha384-Ov4/wv3j2bmct8cDc5X4ngJZohVPzEmc6uDPH8WeljUxO5vtoykvMEfbu9Vh6RaW"

    /// Scripts and styles from this server and the CDN only, no inline script, documents fetched
    /// from this server only (`connect-src`), images from here or inline `data:` (Swagger UI's icons),
    /// and no framing (`frame-ancestors`), so the page cannot be overlaid for clickjacking.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self' \(cdn); style-src 'self' \(cdn); img-src 'self' data:; "
        + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static var headers: HTTPFields {
        [
            .contentSecurityPolicy: contentSecurityPolicy, .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer",
        ]
    }

    func register(on router: Router<APIRequestContext>) {
        let document = ByteBuffer(bytes: OpenAPIDocument.json)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        let page = ByteBuffer(string: Self.page)
        router.get("/docs") { _, _ in
            var headers = Self.headers
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: page))
        }
        let script = ByteBuffer(string: Self.initScript)
        router.get("/docs/init.js") { _, _ in
            var headers = Self.headers
            headers[.contentType] = "text/javascript; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: script))
        }
    }

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>bet-maker API</title>
          <link rel="stylesheet" href="\(swaggerUIBase)/swagger-ui.css" integrity="\(styleIntegrity)" crossorigin="anonymous">
        </head>
        <body>
          <div id="swagger-ui"></div>
          <script src="\(swaggerUIBase)/swagger-ui-bundle.js" integrity="\(bundleIntegrity)" crossorigin="anonymous"></script>
          <script src="/docs/init.js"></script>
        </body>
        </html>

        """

    /// Swagger UI's start-up: the document from this server; no call to Swagger's public validator.
    static let initScript = """
        window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });

        """
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
