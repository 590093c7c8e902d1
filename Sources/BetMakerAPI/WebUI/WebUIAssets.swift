import BetMakerRuntime
import Crypto
import HTTPTypes
import Hummingbird
import NIOCore

/// The web UI's script and style sheet, compiled into the binary. Each is served with a strong
/// `ETag` (the first 128 bits of its SHA-256), so a browser revalidates for a 304 instead of loading
/// it again; pages link them with the hash in the query, so a new build's assets are fetched at once.
struct WebUIAsset: Sendable {
    let path: String
    let contentType: String
    let body: ByteBuffer
    /// `"<32 hex digits>"`, quotes included (RFC 9110's entity-tag).
    let etag: String
    /// The path with the content hash, as pages link it.
    let versionedPath: String

    init(path: String, contentType: String, text: String) {
        self.path = path
        self.contentType = contentType
        body = ByteBuffer(string: text)
        let digest = SHA256.hash(data: Array(text.utf8)).prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        etag = "\"\(digest)\""
        versionedPath = "\(path)?v=\(digest)"
    }

    /// The asset, or 304 when `If-None-Match` names its tag (or is `*`).
    func response(to request: Request) -> Response {
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "public, max-age=3600"]
        if let tags = request.headers[.ifNoneMatch],
            tags.split(separator: ",").contains(where: { tag in
                let tag = tag.trimmingSpaces
                return tag == "*" || tag == etag || tag == "W/" + etag
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    static let script = WebUIAsset(path: "/ui/assets/app.js", contentType: "text/javascript; charset=utf-8", text: WebUIScript.text)
    static let styleSheet = WebUIAsset(path: "/ui/assets/app.css", contentType: "text/css; charset=utf-8", text: styleSheetText)
    static let all = [script, styleSheet]

    static let styleSheetText = """
        :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
        body { margin: 0; }
        header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #1d2330; color: #fff; }
        header a { color: #fff; text-decoration: none; }
        header nav { display: flex; gap: .8rem; flex: 1; }
        header nav a[aria-current] { text-decoration: underline; }
        .brand { font-weight: 700; }
        main { padding: 1rem 1.2rem; max-width: 72rem; }
        .card { background: #fff; border: 1px solid #d6d9e0; border-radius: .4rem; padding: .8rem 1rem; margin: 0 0 1rem; max-width: 26rem; }
        .events { display: flex; flex-wrap: wrap; gap: 1rem; }
        details.manage { min-width: 12rem; }
        details.manage form, details.manage [data-event-actions] { border-top: 1px solid #d6d9e0; padding: .3rem 0; }
        summary { cursor: pointer; }
        label { display: block; margin: .4rem 0; }
        input, select { font: inherit; padding: .2rem .4rem; }
        button { font: inherit; cursor: pointer; }
        table { border-collapse: collapse; background: #fff; margin-bottom: 1rem; }
        th, td { border: 1px solid #d6d9e0; padding: .3rem .6rem; text-align: left; }
        .error { color: #b00020; margin: .2rem 0; }
        .error:empty, .notice:empty { display: none; }
        .notice { color: #05603a; }
        .status-won { color: #05603a; font-weight: 700; }
        .status-lost { color: #b00020; }
        .status-void { color: #6b7280; }

        """
}
