/// Logins: 3 to 64 characters from a safe alphabet, unique whatever their case.
public enum Login {
    public static let rule = "3 to 64 characters from A-Z a-z 0-9 . _ @ + -"

    public static func isValid(_ text: String) -> Bool {
        (3...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
    }

    /// The form logins are compared in.
    public static func normalized(_ login: String) -> String {
        String(decoding: login.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
