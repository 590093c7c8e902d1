/// Writes JSON text. Responses are built with it directly, field by field, so the hot paths encode
/// without an intermediate tree or `Codable` reflection.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        separator()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        // The value that follows must not get a comma of its own.
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    public mutating func string(_ value: String) { separator(); appendQuoted(value) }
    public mutating func string(_ value: String?) { value.map { string($0) } ?? null() }
    public mutating func integer(_ value: some BinaryInteger) { separator(); bytes.append(contentsOf: String(value).utf8) }
    public mutating func bool(_ value: Bool) { separator(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }

    public mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func field(_ name: String, _ value: String?) { key(name); string(value) }
    public mutating func field(_ name: String, _ value: some BinaryInteger) { key(name); integer(value) }
    public mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }

    /// Appends an already encoded JSON value.
    public mutating func raw(_ json: some Sequence<UInt8>) { separator(); bytes.append(contentsOf: json) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func appendQuoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Most text needs no escaping: copy it in one go, and escape byte by byte only if needed.
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                bytes.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A timestamp (milliseconds since 1970) as an RFC 3339 string, written without building a String.
    public mutating func timestamp(_ milliseconds: Int64) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        Timestamp.appendRFC3339(milliseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func field(_ name: String, timestamp milliseconds: Int64?) {
        key(name)
        if let milliseconds { timestamp(milliseconds) } else { null() }
    }
}
