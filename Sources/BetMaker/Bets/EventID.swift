/// Event ids: whatever the operator's feed uses, within a safe alphabet. The alphabet leaves out
/// `{` and `}` (Redis Cluster hash tags), `/` and `%` (URL paths) and anything needing escapes.
public enum EventID {
    public static let maximumLength = 128

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let utf8 = text.utf8
        return !utf8.isEmpty && utf8.count <= maximumLength && utf8.allSatisfy(isAllowed)
    }

    public static let rule = "1 to 128 characters from A-Z a-z 0-9 . _ : -"

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
