import CHiredis
import NIOCore

/// hiredis's RESP parser. Bytes go in as they arrive, in pieces of any size; whole replies come out,
/// copied into `RESPValue` and freed at once. After a protocol error the reader is unusable (hiredis
/// keeps the error), so the connection that owns it must close.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let allocator = ByteBufferAllocator()

    init() {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reader")
        }
        // Keep the internal buffer between reads instead of freeing it whenever it drains.
        reader.pointee.maxbuf = 0
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    func feed(_ bytes: ByteBuffer) throws(RedisError) {
        let status = bytes.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if status != REDIS_OK { throw .protocolError(errorText) }
    }

    /// Every complete reply in the bytes fed so far, in order.
    ///
    /// The bulk strings of all of them are copied into one buffer that their values share, in two
    /// passes (copy everything, then slice), so a read of many replies costs one allocation for their
    /// payloads instead of one per string.
    func replies() throws(RedisError) -> [RESPValue] {
        var raw: [UnsafeMutablePointer<redisReply>] = []
        defer { for reply in raw { freeReplyObject(reply) } }
        while true {
            var reply: UnsafeMutableRawPointer? = nil
            guard redisReaderGetReply(reader, &reply) == REDIS_OK else {
                throw .protocolError(errorText)
            }
            guard let reply else { break }
            raw.append(reply.assumingMemoryBound(to: redisReply.self))
        }
        guard !raw.isEmpty else { return [] }
        var size = 0
        for reply in raw { size += bulkBytes(in: reply) }
        var payloads = allocator.buffer(capacity: size)
        for reply in raw { copyBulkBytes(of: reply, into: &payloads) }
        var offset = 0
        return raw.map { value(of: $0, payloads: payloads, offset: &offset) }
    }

    private func bulkBytes(in reply: UnsafeMutablePointer<redisReply>) -> Int {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING: return node.len
        case REDIS_REPLY_ARRAY: return (0..<node.elements).reduce(0) { $0 + bulkBytes(in: node.element[$1]!) }
        default: return 0
        }
    }

    private func copyBulkBytes(of reply: UnsafeMutablePointer<redisReply>, into payloads: inout ByteBuffer) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            payloads.writeBytes(UnsafeRawBufferPointer(start: node.str, count: node.len))
        case REDIS_REPLY_ARRAY:
            for index in 0..<node.elements { copyBulkBytes(of: node.element[index]!, into: &payloads) }
        default:
            break
        }
    }

    private func value(of reply: UnsafeMutablePointer<redisReply>, payloads: ByteBuffer, offset: inout Int) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            defer { offset += node.len }
            return .bulkString(payloads.getSlice(at: offset, length: node.len)!)
        case REDIS_REPLY_STATUS:
            return .simpleString(text(node))
        case REDIS_REPLY_ERROR:
            return .error(RedisServerError(reply: text(node)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var values: [RESPValue] = []
            values.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                values.append(value(of: node.element[index]!, payloads: payloads, offset: &offset))
            }
            return .array(values)
        default:
            return .null
        }
    }

    private func text(_ node: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self)
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
