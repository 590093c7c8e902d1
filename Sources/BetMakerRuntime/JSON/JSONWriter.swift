/// Writes JSON text. Responses are built with it directly, field by field, so the hot paths encode
/// without an intermediate tree or `Codable` reflection.
///
/// Inlinable: the API writes its output (`BetMakerAPI/Output`) from another module, and a listing
/// makes a thousand of these calls per request; inlined and specialized there, they cost what they
/// did when the writer and the output lived in one module (docs/PERFORMANCE.md).
public struct JSONWriter {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var needsComma: [Bool] = []

    @inlinable
    public init(capacity: Int = 256) {
        storage.reserveCapacity(capacity)
    }

    @inlinable public var bytes: [UInt8] { storage }

    @inlinable public mutating func beginObject() { separator(); storage.append(UInt8(ascii: "{")); needsComma.append(false) }
    @inlinable public mutating func endObject() { needsComma.removeLast(); storage.append(UInt8(ascii: "}")) }
    @inlinable public mutating func beginArray() { separator(); storage.append(UInt8(ascii: "[")); needsComma.append(false) }
    @inlinable public mutating func endArray() { needsComma.removeLast(); storage.append(UInt8(ascii: "]")) }

    @inlinable
    public mutating func key(_ name: String) {
        separator()
        appendQuoted(name)
        storage.append(UInt8(ascii: ":"))
        // The value that follows must not get a comma of its own.
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    @inlinable public mutating func string(_ value: String) { separator(); appendQuoted(value) }
    @inlinable public mutating func string(_ value: String?) { value.map { string($0) } ?? null() }
    @inlinable public mutating func integer(_ value: some BinaryInteger) { separator(); storage.append(contentsOf: String(value).utf8) }
    @inlinable public mutating func bool(_ value: Bool) { separator(); storage.append(contentsOf: (value ? "true" : "false").utf8) }
    @inlinable public mutating func null() { separator(); storage.append(contentsOf: "null".utf8) }

    @inlinable public mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    @inlinable public mutating func field(_ name: String, _ value: String?) { key(name); string(value) }
    @inlinable public mutating func field(_ name: String, _ value: some BinaryInteger) { key(name); integer(value) }
    /// A whole number, or null.
    @inlinable public mutating func field(_ name: String, _ value: Int?) {
        key(name)
        if let value { integer(value) } else { null() }
    }
    @inlinable public mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }

    /// Appends an already encoded JSON value.
    @inlinable public mutating func raw(_ json: some Sequence<UInt8>) { separator(); storage.append(contentsOf: json) }

    public var text: String { String(decoding: storage, as: UTF8.self) }

    @inlinable
    mutating func separator() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { storage.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    @inlinable
    mutating func appendQuoted(_ value: String) {
        storage.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Most text needs no escaping: copy it in one go, and escape byte by byte only if needed.
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                storage.append(contentsOf: utf8)
            } else {
                appendEscaped(utf8)
            }
        }
        storage.append(UInt8(ascii: "\""))
    }

    @usableFromInline
    mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): storage.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): storage.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: storage.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: storage.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: storage.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                storage.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: storage.append(byte)
            }
        }
    }

    /// A timestamp (milliseconds since 1970) as an RFC 3339 string, written without building a String.
    @inlinable
    public mutating func timestamp(_ milliseconds: Int64) {
        separator()
        storage.append(UInt8(ascii: "\""))
        Timestamp.appendRFC3339(milliseconds, to: &storage)
        storage.append(UInt8(ascii: "\""))
    }

    @inlinable
    public mutating func field(_ name: String, timestamp milliseconds: Int64?) {
        key(name)
        if let milliseconds { timestamp(milliseconds) } else { null() }
    }
}
