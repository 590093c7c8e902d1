/// The API's OpenAPI 3.1 document, `openapi.json` beside this file, served as `/openapi.json`
/// (`DocsRoutes`). The EmbedOpenAPIDocument build plugin compiles it in as `text`, a string literal,
/// so the executable needs no file beside it (docs/decisions/0021-openapi-document.md).
public enum OpenAPIDocument {
    /// The document's bytes, exactly as in `openapi.json`.
    public static let json: [UInt8] = Array(text.utf8)
}
