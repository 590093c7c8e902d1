import BetMaker
import Testing

/// The stored form of an address, its limits and syntax, and the names it goes by.
@Suite struct EmailAddressTests {
    @Test func theStoredFormIsLowerCaseAndTheHashIsTheESPs() throws {
        let address = try #require(EmailAddress(normalizing: "Jo.Player+Games@Example.COM"))
        #expect(address.value == "jo.player+games@example.com")
        // MD5 of the lower-cased address, as Mailchimp's subscriber hash (computed with Python's hashlib).
        #expect(address.subscriberHash == "eb2435595d5a8c130e7a21b0a3b8b18c")
        #expect(address.masked == "j***@example.com" && "\(address)" == "j***@example.com")
    }

    @Test func limitsAndSyntaxAreRFC5321s() {
        let local64 = String(repeating: "a", count: 64)
        let domain = (0..<3).map { _ in String(repeating: "d", count: 63) }.joined(separator: ".") + ".co"  // 194
        let whole254 = String(repeating: "x", count: 254 - 1 - domain.count) + "@" + domain
        #expect(whole254.utf8.count == 254)
        for valid in ["a@b.co", "\(local64)@example.com", whole254, "first.last@sub-domain.example.org", "!#$%&'*+/=?^_`{|}~-@x.io"] {
            #expect(EmailAddress(normalizing: valid) != nil, "\(valid)")
        }
        let invalid = [
            "", "a@b", "@b.co", "a@", "a@@b.co", "a..b@b.co", ".a@b.co", "a.@b.co", "a b@b.co", "\"a\"@b.co", "a@b..co",
            "a@-b.co", "a@b-.co", "a@b.1co", "a@[127.0.0.1]", "é@b.co", "a@bé.co", local64 + "a@example.com",
            "x" + whole254, " a@b.co",
        ]
        for text in invalid {
            #expect(EmailAddress(normalizing: text) == nil, "\(text)")
        }
    }
}
