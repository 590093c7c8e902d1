import NIOCore

/// One reply from Redis, copied out of hiredis's reply tree.
///
/// RESP2 only: hiredis 0.14 does not speak RESP3, so there are no maps, sets or doubles here.
/// A null bulk string (`$-1`) and a null array (`*-1`) both arrive as `.null`.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case bulkString(ByteBuffer)
    case integer(Int64)
    case array([RESPValue])
    case null
    /// An error reply nested inside an array (a top-level error reply is thrown instead).
    case error(RedisServerError)
}

extension RESPValue {
    /// The value as text, for simple and bulk strings and integers; nil otherwise.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes): String(buffer: bytes)
        case .integer(let number): String(number)
        default: nil
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RESPValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .bulkString(let bytes): "\"\(String(buffer: bytes))\""
        case .integer(let number): ":\(number)"
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        case .null: "(nil)"
        case .error(let error): "-\(error.code) \(error.message)"
        }
    }
}

/// An error reply of the Redis server, split into its code (`NOSCRIPT`, `WRONGTYPE`, ...) and message.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The first word of the reply: `ERR`, `NOSCRIPT`, `BUSYGROUP`, `WRONGTYPE`, `OOM`, `NOAUTH`, ...
    public var code: String
    /// The rest of the reply after the code.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// Splits a raw error reply such as `NOSCRIPT No matching script.` into code and message.
    public init(reply: String) {
        if let space = reply.firstIndex(of: " ") {
            self.code = String(reply[..<space])
            self.message = String(reply[reply.index(after: space)...])
        } else {
            self.code = reply
            self.message = ""
        }
    }

    public var description: String { message.isEmpty ? code : "\(code) \(message)" }
}
