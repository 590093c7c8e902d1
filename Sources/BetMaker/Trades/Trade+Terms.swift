import NIOCore

extension Trade.Terms {
    /// The terms as `place_trade` and `open_trades` write them with Redis's `cmsgpack.pack`: the user,
    /// account, symbol and direction as strings, then as integers the stake, leverage, duration, the
    /// start tick's time and sequence, the start price, the liquidation price (0: none), created,
    /// expires, and the time and sequence of the tick it was accepted after, so that `close_trades`
    /// takes its numbers without matching a pattern or converting text. A pending trade's start, start
    /// price, liquidation price and expiry are 0. Nil when malformed.
    public init?(encoded: ByteBuffer) {
        var reader = MessagePackReader(bytes: encoded)
        guard let userID = reader.string().flatMap({ Int($0) }), let accountID = reader.string().flatMap({ Int($0) }),
            let symbol = reader.string(), let direction = reader.string().flatMap(TradeDirection.init(rawValue:)),
            let stake = reader.integer(), let leverage = reader.integer(), let duration = reader.integer(),
            let startTime = reader.integer(), let startSequence = reader.integer(), let startPrice = reader.integer(),
            let liquidation = reader.integer(), let createdAt = reader.integer(), let expiresAt = reader.integer(),
            let afterTime = reader.integer(), let afterSequence = reader.integer(), reader.isAtEnd
        else { return nil }
        let isOpened = startPrice > 0
        self.init(
            userID: userID, accountID: accountID, symbol: symbol, direction: direction, stake: Money(cents: stake), leverage: Int(leverage),
            duration: Int(duration),
            start: isOpened ? Tick(id: "\(startTime)-\(startSequence)", price: Price(units: startPrice)) : nil,
            liquidationPrice: liquidation > 0 ? Price(units: liquidation) : nil, createdAt: createdAt,
            expiresAt: isOpened ? expiresAt : nil, acceptedAfter: "\(afterTime)-\(afterSequence)")
    }
}

/// Reads the MessagePack values that Redis's `cmsgpack.pack` writes for strings and integers, one after
/// the other; nil for anything else (a float, an array, a truncated value).
struct MessagePackReader {
    private var bytes: ByteBuffer

    init(bytes: ByteBuffer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { bytes.readableBytes == 0 }

    mutating func string() -> String? {
        guard let tag = bytes.readInteger(as: UInt8.self) else { return nil }
        let length: Int?
        switch tag {
        case 0xa0...0xbf: length = Int(tag & 0x1f)
        case 0xd9: length = bytes.readInteger(as: UInt8.self).map(Int.init)
        case 0xda: length = bytes.readInteger(as: UInt16.self).map(Int.init)
        case 0xdb: length = bytes.readInteger(as: UInt32.self).map(Int.init)
        default: return nil
        }
        return length.flatMap { bytes.readString(length: $0) }
    }

    mutating func integer() -> Int64? {
        guard let tag = bytes.readInteger(as: UInt8.self) else { return nil }
        switch tag {
        case 0x00...0x7f: return Int64(tag)
        case 0xe0...0xff: return Int64(Int8(bitPattern: tag))
        case 0xcc: return bytes.readInteger(as: UInt8.self).map(Int64.init)
        case 0xcd: return bytes.readInteger(as: UInt16.self).map(Int64.init)
        case 0xce: return bytes.readInteger(as: UInt32.self).map(Int64.init)
        case 0xcf: return bytes.readInteger(as: UInt64.self).flatMap { Int64(exactly: $0) }
        case 0xd0: return bytes.readInteger(as: Int8.self).map(Int64.init)
        case 0xd1: return bytes.readInteger(as: Int16.self).map(Int64.init)
        case 0xd2: return bytes.readInteger(as: Int32.self).map(Int64.init)
        case 0xd3: return bytes.readInteger(as: Int64.self)
        default: return nil
        }
    }
}
