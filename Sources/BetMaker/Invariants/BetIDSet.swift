/// Bet ids as their 60-bit numbers when they are well formed (8 bytes each instead of a string), so a
/// million fit in a few megabytes.
enum BetIDNumber {
    /// The value of each byte as a Crockford base-32 digit, 255 for bytes that are none.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 255, count: 256)
        for (index, byte) in "0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8.enumerated() { values[Int(byte)] = UInt8(index) }
        return values
    }()

    static func number(_ id: String) -> UInt64? {
        guard id.utf8.count == BetIDGenerator.length else { return nil }
        var value: UInt64 = 0
        for byte in id.utf8 {
            let digit = values[Int(byte)]
            guard digit < 32 else { return nil }
            value = value << 5 | UInt64(digit)
        }
        return value
    }
}

struct BetIDSet {
    private var numbers = Set<UInt64>()
    private var others = Set<String>()

    var count: Int { numbers.count + others.count }

    /// Inserts `id`; false if it was there already.
    mutating func insert(_ id: String) -> Bool {
        if let number = BetIDNumber.number(id) { return numbers.insert(number).inserted }
        return others.insert(id).inserted
    }

    func contains(_ id: String) -> Bool {
        if let number = BetIDNumber.number(id) { return numbers.contains(number) }
        return others.contains(id)
    }

    /// Every id, in order.
    var ids: [String] { numbers.sorted().map(BetIDGenerator.encode) + others.sorted() }
}

/// A value per bet id, keyed like `BetIDSet`.
struct BetIDMap<Value> {
    private var numbers: [UInt64: Value] = [:]
    private var others: [String: Value] = [:]

    subscript(_ id: String) -> Value? {
        get { BetIDNumber.number(id).map { numbers[$0] } ?? others[id] }
        set {
            if let number = BetIDNumber.number(id) { numbers[number] = newValue } else { others[id] = newValue }
        }
    }

    /// Every entry, in id order.
    var sorted: [(String, Value)] {
        numbers.sorted { $0.key < $1.key }.map { (BetIDGenerator.encode($0.key), $0.value) }
            + others.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
