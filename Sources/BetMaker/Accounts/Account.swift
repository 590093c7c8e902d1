/// One wallet of a user.
public struct Account: Sendable, Equatable {
    public let id: Int
    public let balance: Money

    public init(id: Int, balance: Money) {
        self.id = id
        self.balance = balance
    }
}
