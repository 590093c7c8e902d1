import CHiredis
import NIOCore

/// Something that can be an argument of a Redis command. Arguments are bytes, so any value is binary-safe.
public protocol RedisArgument {
    func write(to buffer: inout ByteBuffer)
}

extension String: RedisArgument {
    public func write(to buffer: inout ByteBuffer) { buffer.writeString(self) }
}

extension Substring: RedisArgument {
    public func write(to buffer: inout ByteBuffer) { buffer.writeSubstring(self) }
}

extension Int: RedisArgument {
    public func write(to buffer: inout ByteBuffer) { buffer.writeString(String(self)) }
}

extension Int64: RedisArgument {
    public func write(to buffer: inout ByteBuffer) { buffer.writeString(String(self)) }
}

extension ByteBuffer: RedisArgument {
    public func write(to buffer: inout ByteBuffer) { buffer.writeImmutableBuffer(self) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func write(to buffer: inout ByteBuffer) { buffer.writeBytes(self) }
}

/// A command with its arguments, ready to be formatted by hiredis.
///
/// The arguments are kept back to back in one buffer, each behind its length, so building a command
/// costs one allocation however many arguments it has, and formatting never relies on C strings.
public struct RedisCommand: Sendable {
    /// The command's name in upper case, as used in metrics and error messages.
    public let name: String
    /// Set for commands that may wait on the server (`XREADGROUP ... BLOCK`, `BLPOP`): they get
    /// `timeout` as their deadline and belong on a dedicated connection.
    public var isBlocking: Bool = false
    /// Overrides the connection's default deadline for this command.
    public var timeout: Duration?
    /// The script's source, for an `EVALSHA` made by `RedisScript`: in cluster mode a node that answers
    /// `NOSCRIPT` (a promoted replica, whose script cache was never filled) is given the script first.
    var scriptSource: String?

    /// Each argument as a 32-bit length followed by its bytes.
    private(set) var storage: ByteBuffer
    public private(set) var argumentCount = 0

    /// `capacity`: bytes to reserve for the arguments, so building a long command does not grow the
    /// buffer again and again.
    public init(_ name: String, capacity: Int = 64) {
        let isUpperCase = name.utf8.allSatisfy { !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        self.name = isUpperCase ? name : name.uppercased()
        self.storage = Self.allocator.buffer(capacity: capacity)
        self.append(name)
    }

    private static let allocator = ByteBufferAllocator()

    public init<each Argument: RedisArgument>(_ name: String, _ arguments: repeat each Argument) {
        self.init(name)
        for argument in repeat each arguments {
            self.append(argument)
        }
    }

    public init(_ name: String, arguments: [String]) {
        self.init(name)
        self.append(contentsOf: arguments)
    }

    public mutating func append(_ argument: some RedisArgument) {
        let lengthIndex = storage.writerIndex
        storage.writeInteger(UInt32(0))
        argument.write(to: &storage)
        storage.setInteger(UInt32(storage.writerIndex - lengthIndex - 4), at: lengthIndex)
        argumentCount += 1
    }

    public mutating func append(contentsOf arguments: [String]) {
        // A plain loop over an array, not a generic `reduce`: a script call with a hundred keys (a
        // listing's page) spent as much in the generic version as in the rest of building itself.
        var bytes = 0
        for argument in arguments { bytes += 4 + argument.utf8.count }
        storage.reserveCapacity(minimumWritableBytes: bytes)
        for argument in arguments {
            // A native String knows its UTF-8 length, so it is written behind it directly.
            storage.writeInteger(UInt32(argument.utf8.count))
            storage.writeString(argument)
        }
        argumentCount += arguments.count
    }

    /// The arguments as text, for logs and tests.
    public var arguments: [String] {
        var reader = storage
        var result: [String] = []
        while let length = reader.readInteger(as: UInt32.self) {
            result.append(reader.readString(length: Int(length)) ?? "")
        }
        return result
    }

    /// Appends the RESP encoding of the command to `buffer`, formatted by hiredis.
    func encode(into buffer: inout ByteBuffer) throws(RedisError) {
        let count = argumentCount
        let formatted: Int32 = storage.withUnsafeReadableBytes { bytes in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                    var offset = 0
                    for index in 0..<count {
                        let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                        argv[index] = (bytes.baseAddress! + offset + 4).assumingMemoryBound(to: CChar.self)
                        lengths[index] = length
                        offset += 4 + length
                    }
                    // The sds variant formats lengths with hiredis's own sdscatfmt; the plain one
                    // calls sprintf per argument, which cost a third of the client's time.
                    var target: sds? = nil
                    let length = redisFormatSdsCommandArgv(&target, Int32(count), argv.baseAddress, lengths.baseAddress)
                    guard length >= 0, let target else { return -1 }
                    buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
                    redisFreeSdsCommand(target)
                    return length
                }
            }
        }
        if formatted < 0 {
            throw .invalidCommand("hiredis could not format \(name)")
        }
    }
}

extension RedisCommand: CustomStringConvertible {
    public var description: String { arguments.joined(separator: " ") }
}
