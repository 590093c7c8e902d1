import Synchronization

/// The ids the API makes for bets (`BetID.serial`) and trades: unique, ordered by creation time, and
/// the same length always, so that their text sorts like their time.
///
/// 60 bits written as 12 Crockford base-32 characters: 41 bits of milliseconds since 2020-01-01 UTC
/// (enough until 2089), 9 bits of node (one per API process), 10 bits of sequence within the
/// millisecond (1024 per millisecond and process; more spill into the next millisecond). The placing
/// scripts refuse an id that exists already, so even two processes that drew the same node number
/// cannot overwrite each other's records; the API then takes a fresh id.
public final class IDGenerator: Sendable {
    public static let epochMilliseconds: Int64 = 1_577_836_800_000
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    private let node: UInt64
    private let clock: @Sendable () -> Int64
    private let state = Mutex<(milliseconds: Int64, sequence: UInt64)>((0, 0))

    public static let nodeCount = 512

    /// `node` in 0..<512; by default a random one.
    public init(node: Int? = nil, clock: @escaping @Sendable () -> Int64 = { currentMilliseconds() }) {
        self.node = UInt64(node ?? Int.random(in: 0..<Self.nodeCount)) & 0x1FF
        self.clock = clock
    }

    public func next() -> String {
        let (milliseconds, sequence) = state.withLock { state -> (Int64, UInt64) in
            // Never go back in time, even if the wall clock does; spill into the next millisecond
            // when 1024 ids were taken in this one.
            let now = max(clock(), state.milliseconds)
            if now == state.milliseconds {
                state.sequence += 1
                if state.sequence > 0x3FF {
                    state.milliseconds += 1
                    state.sequence = 0
                }
            } else {
                state.milliseconds = now
                state.sequence = 0
            }
            return (state.milliseconds, state.sequence)
        }
        let value = UInt64(milliseconds - Self.epochMilliseconds) << 19 | node << 10 | sequence
        return Self.encode(value)
    }

    public static let length = 12

    static func encode(_ value: UInt64) -> String {
        var characters = [UInt8](repeating: 0, count: length)
        var rest = value
        for index in stride(from: length - 1, through: 0, by: -1) {
            characters[index] = alphabet[Int(rest & 31)]
            rest >>= 5
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// True for text that has the shape of an id this makes (used to refuse garbage before asking Redis).
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
