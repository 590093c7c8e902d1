import Crypto

/// A player's email address in its stored form: trimmed by the caller, then lower-cased as a whole.
/// Mailchimp names a member by the MD5 of the lower-cased address (`subscriberHash`), so one stored
/// form per ESP member keeps "known here" and "known there" about the same contact. (RFC 5321 lets a
/// server treat local parts case-sensitively; no mailbox provider in use does, and the ESP does not.)
///
/// The accepted syntax is RFC 5321's dot-string local part (no quoted strings) and a host name
/// (letters, digits and hyphens, at least two labels, a top-level label starting with a letter); only
/// ASCII. Limits: local part 1 to 64 octets, the whole at most 254 (which keeps the domain within
/// 255). The OpenAPI document states the same rule as a pattern (`EmailAddress`).
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The stored form: lower case.
    public let value: String

    public static let maximumLength = 254
    public static let maximumLocalLength = 64
    public static let rule =
        "an email address: local@domain, ASCII only, local part of 1 to 64 characters (letters, digits, "
        + "!#$%&'*+/=?^_`{|}~- and single dots inside), a domain of two or more labels, at most 254 characters in all"

    /// Nil unless `text` (already trimmed) is a valid address; lower-cases it.
    public init?(normalizing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard (3...Self.maximumLength).contains(bytes.count), let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard Self.isDotString(local), Self.isHostName(domain) else { return nil }
        value = String(decoding: bytes.map(Self.lowercased), as: UTF8.self)
    }

    public var description: String { masked }

    /// The MD5 of the stored form in lower-case hex: the ESP's name for the member, and the key of the
    /// contact here, so neither a key nor a log line spells the address.
    public var subscriberHash: String { Self.subscriberHash(of: value) }

    public static func subscriberHash(of stored: String) -> String {
        Insecure.MD5.hash(data: Array(stored.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The address for logs: the first character of the local part and the domain (`j***@example.com`).
    public var masked: String { Self.masked(value) }

    public static func masked(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@"), at > address.startIndex else { return "***" }
        return String(address[address.startIndex]) + "***" + address[at...]
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    public static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// RFC 5322 `atext`.
    static func isAtext(_ byte: UInt8) -> Bool {
        isLetterOrDigit(byte) || "!#$%&'*+/=?^_`{|}~-".utf8.contains(byte)
    }

    /// Atoms of `atext` joined by single dots, 1 to 64 octets.
    static func isDotString(_ local: ArraySlice<UInt8>) -> Bool {
        guard (1...maximumLocalLength).contains(local.count) else { return false }
        return local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy {
            !$0.isEmpty && $0.allSatisfy(isAtext)
        }
    }

    /// Labels of 1 to 63 letters, digits and inner hyphens, at least two, the last starting with a letter.
    static func isHostName(_ domain: ArraySlice<UInt8>) -> Bool {
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.count <= 255 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), let first = label.first, let last = label.last, isLetterOrDigit(first),
                isLetterOrDigit(last), label.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return labels.last!.first.map { !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false
    }
}
