import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// A JSON response from bytes already written.
    static func json(_ status: HTTPResponse.Status = .ok, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON response written by `body`.
    static func json(
        _ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], capacity: Int = 256, _ body: (inout JSONWriter) -> Void
    ) -> Response {
        var json = JSONWriter(capacity: capacity)
        body(&json)
        return .json(status, json.bytes, headers: headers)
    }
}
