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
    static let styleSheet = WebUIAsset(path: "/ui/assets/app.css", contentType: "text/css; charset=utf-8", text: WebUIStyle.text)
    static let all = [script, styleSheet]
}
