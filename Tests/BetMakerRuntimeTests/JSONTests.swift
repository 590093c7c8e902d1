import BetMaker
import BetMakerRuntime
import Testing

@Suite struct JSONTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func keepsNumbersAsTheirText() throws {
        #expect(
            try parse("[10, 10.50, -0.5, 1e400, 123456789012345678901234567890]")
                == .array([.number("10"), .number("10.50"), .number("-0.5"), .number("1e400"), .number("123456789012345678901234567890")]))
    }

    @Test func parsesObjectsInOrderWithDuplicates() throws {
        #expect(
            try parse(#"{"a": 1, "b": {"c": [true, false, null]}, "a": "x"}"#)
                == .object([
                    JSONMember(key: "a", value: .number("1")),
                    JSONMember(key: "b", value: .object([JSONMember(key: "c", value: .array([.bool(true), .bool(false), .null]))])),
                    JSONMember(key: "a", value: .string("x")),
                ]))
    }

    @Test func decodesEscapes() throws {
        #expect(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "NaN", "Infinity", "tru", "{'a':1}", "\"\\x\"", "\"a", "[1] 2",
        "\"\\ud800\"", "{\"a\" 1}", "\"tab\there\"", "-", "1e", "// comment\n1",
    ])
    func refusesMalformedJSON(text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONSyntaxError.self) {
            try JSONParser.parse(Array((String(repeating: "[", count: 40) + String(repeating: "]", count: 40)).utf8))
        }
        #expect(throws: Never.self) {
            try JSONParser.parse(Array((String(repeating: "[", count: 30) + String(repeating: "]", count: 30)).utf8))
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func writesEscapedJSON() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", "quote \" backslash \\ newline \n control \u{01}")
        writer.field("n", 42)
        writer.field("none", nil as String?)
        writer.key("list")
        writer.beginArray()
        writer.integer(1)
        writer.bool(false)
        writer.endArray()
        writer.endObject()
        #expect(writer.text == #"{"text":"quote \" backslash \\ newline \n control \u0001","n":42,"none":null,"list":[1,false]}"#)
        // And it reads back as what was written.
        #expect(
            try parse(writer.text)
                == .object([
                    JSONMember(key: "text", value: .string("quote \" backslash \\ newline \n control \u{01}")),
                    JSONMember(key: "n", value: .number("42")),
                    JSONMember(key: "none", value: .null),
                    JSONMember(key: "list", value: .array([.number("1"), .bool(false)])),
                ]))
    }

    @Test func formatsTimestamps() {
        #expect(Timestamp.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(1_795_381_805_042) == "2026-11-22T21:10:05.042Z")
    }
}
