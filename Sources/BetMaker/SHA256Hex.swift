import Crypto

/// The SHA-256 of a text's UTF-8 bytes in lower-case hex: the payment provider's signature, and the
/// form secrets (idempotency keys, activation tokens) are stored in.
public func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}
