/// An entry of the dead-letter stream: why and after how many deliveries the workers gave up on a
/// stream entry, and that entry's own fields.
public struct DeadLetter: Sendable, Equatable {
    public let id: String
    /// The id the entry had on the events stream.
    public let entryID: String
    public let reason: String
    public let deliveries: Int
    /// The original entry's fields, in the order written (`dead_letter` writes them sorted by name).
    public let fields: [(name: String, value: String)]

    /// From the stream entry's values as written by `dead_letter`: `entry_id`, `reason`, `deliveries`,
    /// then the original fields. Read by position, so an original field of the same name cannot
    /// hide them.
    init(id: String, values: [String]) {
        self.id = id
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
        id.split(separator: "-").first.flatMap { Int64($0) }
    }

    public static func == (left: DeadLetter, right: DeadLetter) -> Bool {
        left.id == right.id && left.entryID == right.entryID && left.reason == right.reason && left.deliveries == right.deliveries
            && left.fields.map(\.name) == right.fields.map(\.name) && left.fields.map(\.value) == right.fields.map(\.value)
    }
}
