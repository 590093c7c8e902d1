/// An entry of a shard's dead-letter stream: why and after how many deliveries the workers gave up on a
/// stream entry, and that entry's own fields.
public struct DeadLetter: Sendable, Equatable {
    /// The shard whose dead-letter stream holds it.
    public let shard: Int
    /// Its id in that stream.
    public let streamID: String
    /// Its id in the API: the shard and the stream id (`ID`), `3:1795383140000-0`.
    public var id: String { ID(shard: shard, entryID: streamID).description }
    /// The id the entry had on the events stream.
    public let entryID: String
    public let reason: String
    public let deliveries: Int
    /// The original entry's fields, in the order written (`dead_letter` writes them sorted by name).
    public let fields: [(name: String, value: String)]

    /// From the stream entry's values as written by `dead_letter`: `entry_id`, `reason`, `deliveries`,
    /// then the original fields. Read by position, so an original field of the same name cannot
    /// hide them.
    init(shard: Int, streamID: String, values: [String]) {
        self.shard = shard
        self.streamID = streamID
        func value(_ index: Int, named name: String) -> String? {
            values.count > index + 1 && values[index] == name ? values[index + 1] : nil
        }
        entryID = value(0, named: "entry_id") ?? ""
        reason = value(2, named: "reason") ?? ""
        deliveries = value(4, named: "deliveries").flatMap { Int($0) } ?? 0
        var fields: [(name: String, value: String)] = []
        var index = 6
        while index + 1 < values.count {
            fields.append((values[index], values[index + 1]))
            index += 2
        }
        self.fields = fields
    }

    /// The first original field called `name`.
    public func field(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// When the entry was dead-lettered: the time part of its id.
    public var deadLetteredAt: Int64? {
        streamID.split(separator: "-").first.flatMap { Int64($0) }
    }

    /// A dead letter's id as the API shows it: `<shard>:<entry id in the shard's dead-letter stream>`.
    public struct ID: Sendable, Equatable, CustomStringConvertible {
        public let shard: Int
        public let entryID: String

        public init(shard: Int, entryID: String) {
            self.shard = shard
            self.entryID = entryID
        }

        /// Nil unless `text` is a shard number (no leading zeros), `:` and a valid entry id.
        public init?(_ text: String) {
            guard let colon = text.firstIndex(of: ":") else { return nil }
            let digits = text[..<colon]
            let entryID = String(text[text.index(after: colon)...])
            guard (1...3).contains(digits.count), digits == "0" || !digits.hasPrefix("0"), let shard = Int(decimalDigits: digits),
                StreamID.isValid(entryID)
            else { return nil }
            self.init(shard: shard, entryID: entryID)
        }

        public var description: String { String(shard) + ":" + entryID }

        public static func isValid(_ text: String) -> Bool { ID(text) != nil }
    }

    public static func == (left: DeadLetter, right: DeadLetter) -> Bool {
        left.id == right.id && left.entryID == right.entryID && left.reason == right.reason && left.deliveries == right.deliveries
            && left.fields.map(\.name) == right.fields.map(\.name) && left.fields.map(\.value) == right.fields.map(\.value)
    }
}
