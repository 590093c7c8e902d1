/// Redis Cluster's hash slots: CRC16 (XMODEM) of the key's hash tag, or of the whole key, mod 16384.
///
/// The hash tag is the part between the first `{` and the first `}` after it, when that part is not
/// empty: `{u:42}:account` and `{u:42}:ledger` share a slot. `{}x` has no tag (the whole key counts),
/// `{a}{b}` hashes `a`, and `{{a}}` hashes `{a`.
public enum HashSlot {
    public static let count = 16384

    /// The slot of `key`.
    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }

    /// The slot of a key given as bytes.
    public static func of(_ key: UnsafeRawBufferPointer) -> Int {
        Int(crc16(tag(of: key)) & 0x3FFF)
    }

    /// The bytes that are hashed: the tag if there is a non-empty one, else the whole key. Plain loops
    /// over the bytes: the generic `firstIndex(of:)` on a slice cost as much as the CRC.
    static func tag(of key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let base = key.baseAddress else { return key }
        let count = key.count
        var open = 0
        while open < count && base.load(fromByteOffset: open, as: UInt8.self) != UInt8(ascii: "{") { open += 1 }
        var close = open + 1
        while close < count && base.load(fromByteOffset: close, as: UInt8.self) != UInt8(ascii: "}") { close += 1 }
        guard close < count, close > open + 1 else { return key }
        return UnsafeRawBufferPointer(start: base + open + 1, count: close - open - 1)
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            return crc
        }
    }

    static func crc16(_ text: String) -> UInt16 {
        var text = text
        return text.withUTF8 { crc16(UnsafeRawBufferPointer($0)) }
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
