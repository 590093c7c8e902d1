extension StringProtocol where UTF8View: BidirectionalCollection {
    /// Without leading and trailing spaces and tabs. Walks the UTF-8 bytes, never characters: it runs on
    /// every authenticated request's token.
    public var trimmingSpaces: String {
        let utf8 = self.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isBlank($0) }), let last = utf8.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        // A blank is one byte, so the bytes next to one are character boundaries.
        return String(self[first..<utf8.index(after: last)])
    }
}
