import Crypto
import ExtrasBase64

/// The SHA-256 of a text's UTF-8 bytes in lower-case hex: the payment provider's signature, and the
/// form secrets (idempotency keys, activation tokens) are stored in.
public func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}

/// Equal length and bytes, in a time that does not depend on where they differ: for comparing
/// secrets (signatures, API keys) with what a client sent.
public func constantTimeEquals(_ left: some StringProtocol, _ right: some StringProtocol) -> Bool {
    let (left, right) = (Array(left.utf8), Array(right.utf8))
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices { difference |= left[index] ^ right[index] }
    return difference == 0
}

/// `count` bytes from the system's secure random number generator: tokens and secrets.
public func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// Base64 with the URL alphabet and no padding (RFC 4648, section 5), as tokens are written;
/// swift-extras-base64 does the work.
public enum Base64URL {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// Decodes base64url with or without padding; nil for anything else.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        try? Base64.decode(string: String(text), options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
