import Hummingbird
import NIOCore

/// The API's OpenAPI 3.1 document (`Sources/BetMakerAPI/openapi.json`), compiled into the binary by
/// SwiftPM (`.embedInCode`), so the executable needs no resource bundle next to it.
public enum OpenAPIDocument {
    /// The document's bytes, exactly as in the repository.
    public static var json: [UInt8] { PackageResources.openapi_json }
}

/// `/openapi.json`: the contract, served from the binary; `/docs`: a page that shows it to a person
/// with Swagger UI. Only Swagger UI's script and style come from a CDN; the page reads the document
/// from this server.
struct DocsRoutes {
    static let swaggerUIVersion = "5"

    func register(on router: Router<APIRequestContext>) {
        let document = ByteBuffer(bytes: OpenAPIDocument.json)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        let page = ByteBuffer(string: Self.page)
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: page))
        }
    }

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>bet-maker API</title>
          <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@\(swaggerUIVersion)/swagger-ui.css">
        </head>
        <body>
          <div id="swagger-ui"></div>
          <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@\(swaggerUIVersion)/swagger-ui-bundle.js" crossorigin="anonymous"></script>
          <script>
            window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
          </script>
        </body>
        </html>

        """
}
