#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads what a child process writes into a pipe, with read(2), and reads again when a signal
/// interrupted the call (EINTR). Foundation's readers must not be used for a child's output: on any
/// read error `FileHandle.readDataToEndOfFile()` hits a `try!` and `availableData` a `fatalError`, so a
/// single EINTR once took the whole test process down (issue 27). Here a read error other than EINTR
/// ends the output; it never stops the process.
public enum OutputReader {
    public enum Chunk: Equatable, Sendable {
        case bytes([UInt8])
        /// End of file: every writer closed the pipe.
        case end
        /// A read error other than EINTR (its errno).
        case failed(errno: Int32)
    }

    /// One read of up to `maximumLength` bytes, waiting for some if there are none yet; an interrupted
    /// read is repeated.
    public static func read(_ descriptor: Int32, maximumLength: Int = 65_536) -> Chunk {
        var buffer = [UInt8](repeating: 0, count: maximumLength)
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in
                systemRead(descriptor, bytes.baseAddress, bytes.count)
            }
            if count > 0 { return .bytes(Array(buffer.prefix(count))) }
            if count == 0 { return .end }
            let error = errno
            if error != EINTR { return .failed(errno: error) }
        }
    }

    /// Reads until end of file or an error, handing each chunk to `consume`. Returns nil at end of
    /// file, else the errno that ended the reading.
    public static func readToEnd(_ descriptor: Int32, _ consume: ([UInt8]) -> Void) -> Int32? {
        while true {
            switch read(descriptor) {
            case .bytes(let bytes): consume(bytes)
            case .end: return nil
            case .failed(let error): return error
            }
        }
    }

    #if canImport(Glibc)
        private static let systemRead = Glibc.read
    #elseif canImport(Darwin)
        private static let systemRead = Darwin.read
    #endif
}
