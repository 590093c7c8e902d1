/// Where an event is in the resulting workflow: `open` → `assigned` (an administrator names a
/// trader) → `in_progress` (a trader took it) → `resulted` (WIN or LOSE); `void` from any state
/// before `resulted`. Every event has one, in the catalogue or not.
///
/// It is derived from the event hash, never stored twice: a result makes the event `resulted`, or
/// `void` when it is VOID; before that the hash's `state` field (absent: `open`). So the scripts that
/// record results need not touch `state`, and no two fields can disagree.
public enum EventState: String, Sendable, CaseIterable {
    case open
    case assigned
    case inProgress = "in_progress"
    case resulted
    case void

    /// The state of an event hash with these `result` and `state` fields.
    public init(result: String?, state: String?) {
        switch result {
        case EventResult.void.rawValue?: self = .void
        case .some: self = .resulted
        case nil: self = state.flatMap(EventState.init(rawValue:)) ?? .open
        }
    }

    /// The hash fields the state is derived from, in the order `init(result:state:)` takes them.
    public static let storedFields = ["result", "state"]
}

/// Who works on an event and when its workflow moved: the event hash's `trader_id`, `assigned_at`,
/// `taken_at`, `voided_at` and `void_reason`.
public struct EventWorkflow: Sendable, Equatable {
    public let state: EventState
    /// The trader it is assigned to or taken by; nil while nobody is.
    public let traderID: Int?
    /// Milliseconds since 1970.
    public let assignedAt: Int64?
    public let takenAt: Int64?
    public let voidedAt: Int64?
    public let voidReason: String?

    public init(
        state: EventState = .open, traderID: Int? = nil, assignedAt: Int64? = nil, takenAt: Int64? = nil, voidedAt: Int64? = nil,
        voidReason: String? = nil
    ) {
        self.state = state
        self.traderID = traderID
        self.assignedAt = assignedAt
        self.takenAt = takenAt
        self.voidedAt = voidedAt
        self.voidReason = voidReason
    }

    /// The hash fields read for a workflow, in order.
    public static let storedFields = EventState.storedFields + ["trader_id", "assigned_at", "taken_at", "voided_at", "void_reason"]

    init(fields: [String?]) {
        precondition(fields.count == Self.storedFields.count)
        self.init(
            state: EventState(result: fields[0], state: fields[1]), traderID: fields[2].flatMap { Int($0) },
            assignedAt: fields[3].flatMap { Int64($0) }, takenAt: fields[4].flatMap { Int64($0) },
            voidedAt: fields[5].flatMap { Int64($0) },
            voidReason: fields[6])
    }
}
