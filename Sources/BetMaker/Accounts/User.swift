public enum Role: String, Sendable, CaseIterable {
    case player
    /// Results events: takes an event (assigned to them, or open) and reports its result.
    case trader
    /// Operator and administrator (the supervisor): assigns events to traders, voids them, reports
    /// results, manages users and the event catalogue.
    case admin
}

public enum UserStatus: String, Sendable, CaseIterable {
    /// Registered; waits for the activation link to be followed.
    case pending
    case active
    /// Disabled by an administrator: cannot log in, and tokens issued before stop working.
    case disabled
}

public struct User: Sendable, Equatable {
    public let id: Int
    public let login: String
    public let role: Role
    public let status: UserStatus
    public let createdAt: Int64
    public let activatedAt: Int64?

    public init(id: Int, login: String, role: Role, status: UserStatus, createdAt: Int64, activatedAt: Int64?) {
        self.id = id
        self.login = login
        self.role = role
        self.status = status
        self.createdAt = createdAt
        self.activatedAt = activatedAt
    }

    /// The user's hash fields read for a `User`, in order.
    static let storedFields = ["login", "role", "status", "created_at", "activated_at"]

    init?(id: Int, fields: [String?]) {
        guard fields.count == Self.storedFields.count, let login = fields[0], let role = fields[1].flatMap(Role.init(rawValue:)),
            let status = fields[2].flatMap(UserStatus.init(rawValue:)), let createdAt = fields[3].flatMap({ Int64($0) })
        else { return nil }
        self.init(id: id, login: login, role: role, status: status, createdAt: createdAt, activatedAt: fields[4].flatMap { Int64($0) })
    }
}
