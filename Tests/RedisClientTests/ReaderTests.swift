import NIOCore
import Testing

@testable import RedisClient

/// hiredis's reader fed hand-written RESP, whole and split at every byte offset.
@Suite struct ReaderTests {
    static let cases: [(bytes: String, expected: [RESPValue])] = [
        ("+OK\r\n", [.simpleString("OK")]),
        ("-ERR unknown command\r\n", [.error(RedisServerError(code: "ERR", message: "unknown command"))]),
        ("-NOSCRIPT No matching script.\r\n", [.error(RedisServerError(code: "NOSCRIPT", message: "No matching script."))]),
        (":42\r\n:-7\r\n", [.integer(42), .integer(-7)]),
        ("$5\r\nhello\r\n", [.bulkString(ByteBuffer(string: "hello"))]),
        ("$0\r\n\r\n", [.bulkString(ByteBuffer())]),
        ("$6\r\na\r\nb\u{0}c\r\n", [.bulkString(ByteBuffer(string: "a\r\nb\u{0}c"))]),
        ("$-1\r\n", [.null]),
        ("*-1\r\n", [.null]),
        ("*0\r\n", [.array([])]),
        (
            "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+x\r\n$-1\r\n",
            [.array([.integer(1), .array([.bulkString(ByteBuffer(string: "a")), .array([.simpleString("x")])]), .null])]
        ),
        (
            "*2\r\n-WRONGTYPE Operation against a key\r\n:3\r\n",
            [.array([.error(RedisServerError(code: "WRONGTYPE", message: "Operation against a key")), .integer(3)])]
        ),
    ]

    static var everything: (bytes: String, expected: [RESPValue]) {
        (cases.map(\.bytes).joined(), cases.flatMap(\.expected))
    }

    @Test(arguments: 0..<cases.count)
    func decodesWholeInput(index: Int) throws {
        let (bytes, expected) = Self.cases[index]
        #expect(try decode([bytes]) == expected)
    }

    @Test func decodesManyRepliesInOneRead() throws {
        let (bytes, expected) = Self.everything
        #expect(try decode([bytes]) == expected)
    }

    @Test func decodesInputSplitAtEveryOffset() throws {
        let (bytes, expected) = Self.everything
        let utf8 = Array(bytes.utf8)
        for offset in 0...utf8.count {
            let parts = [String(decoding: utf8[..<offset], as: UTF8.self), String(decoding: utf8[offset...], as: UTF8.self)]
            #expect(try decode(parts) == expected, "split at \(offset)")
        }
    }

    @Test func decodesInputByteByByte() throws {
        let (bytes, expected) = Self.everything
        #expect(try decode(bytes.utf8.map { String(decoding: [$0], as: UTF8.self) }) == expected)
    }

    @Test func waitsForTheRestOfAPartialReply() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: "$5\r\nhel"))
        #expect(try reader.replies() == [])
        try reader.feed(ByteBuffer(string: "lo\r\n:1\r\n"))
        #expect(try reader.replies() == [.bulkString(ByteBuffer(string: "hello")), .integer(1)])
        #expect(try reader.replies() == [])
    }

    @Test func protocolErrorIsSticky() throws {
        let reader = HiredisReader()
        try? reader.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { try reader.replies() }
        // Even a valid reply after the garbage is refused: the connection must be replaced.
        try? reader.feed(ByteBuffer(string: "+OK\r\n"))
        #expect(throws: RedisError.self) { try reader.replies() }
    }

    @Test func nestingDeeperThanSevenIsAProtocolError() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 9) + ":1\r\n"))
        #expect(throws: RedisError.self) { try reader.replies() }
    }

    @Test func sevenLevelsOfNestingAreFine() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 7) + ":1\r\n"))
        var expected = RESPValue.integer(1)
        for _ in 0..<7 { expected = .array([expected]) }
        #expect(try reader.replies() == [expected])
    }

    private func decode(_ parts: [String]) throws -> [RESPValue] {
        let reader = HiredisReader()
        var values: [RESPValue] = []
        for part in parts {
            try reader.feed(ByteBuffer(string: part))
            values += try reader.replies()
        }
        return values
    }
}

@Suite struct CommandEncodingTests {
    private func encoded(_ command: RedisCommand) throws -> String {
        var buffer = ByteBuffer()
        try command.encode(into: &buffer)
        return String(buffer: buffer)
    }

    @Test func formatsArgumentsWithTheirLengths() throws {
        #expect(try encoded(RedisCommand("SET", "key", "value")) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
    }

    @Test func isBinarySafe() throws {
        let command = RedisCommand("SET", "k", "a\r\nb\u{0}c", "")
        #expect(try encoded(command) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\u{0}c\r\n$0\r\n\r\n")
    }

    @Test func formatsNumbersAndBytes() throws {
        var buffer = ByteBuffer()
        try RedisCommand("INCRBY", "n", -12, [0xFF, 0x00] as [UInt8]).encode(into: &buffer)
        let expected = Array("*4\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$3\r\n-12\r\n$2\r\n".utf8) + [0xFF, 0x00] + Array("\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    /// An array of arguments is written length first: the length must be the UTF-8 length, not the
    /// number of characters.
    @Test func writesAnArrayOfArgumentsWithTheirUTF8Lengths() throws {
        var command = RedisCommand("HMGET", capacity: 8)
        command.append(contentsOf: ["bet:1", "é€", ""])
        #expect(command.arguments == ["HMGET", "bet:1", "é€", ""])
        #expect(try encoded(command) == "*4\r\n$5\r\nHMGET\r\n$5\r\nbet:1\r\n$5\r\né€\r\n$0\r\n\r\n")
    }

    @Test func keepsNameInUpperCase() {
        #expect(RedisCommand("hgetall", "k").name == "HGETALL")
        #expect(RedisCommand("hgetall", "k").arguments == ["hgetall", "k"])
    }
}
