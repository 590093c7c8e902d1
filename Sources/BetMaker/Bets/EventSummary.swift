/// What the API tells about one event.
public struct EventSummary: Sendable, Equatable {
    public let id: String
    public let result: EventResult?
    public let reportedAt: Int64?
    public let settledAt: Int64?
    public let bets: Int
    public let won: Int
    public let lost: Int
    public let staked: Money
    /// Credited to the accounts of won bets with money so far.
    public let paidOut: Money
    /// Bets made void by a void of the event, and the stakes refunded to those with money so far.
    public let voided: Int
    public let refunded: Money
    /// Where the event is in the resulting workflow, and who works on it.
    public let workflow: EventWorkflow
    /// The event's catalogue entry, when it has one.
    public let catalogue: CatalogueEvent?

    public init(
        id: String, result: EventResult?, reportedAt: Int64?, settledAt: Int64?, bets: Int, won: Int, lost: Int, staked: Money,
        paidOut: Money = Money(cents: 0), voided: Int = 0, refunded: Money = Money(cents: 0), workflow: EventWorkflow = EventWorkflow(),
        catalogue: CatalogueEvent? = nil
    ) {
        self.id = id
        self.result = result
        self.reportedAt = reportedAt
        self.settledAt = settledAt
        self.bets = bets
        self.won = won
        self.lost = lost
        self.staked = staked
        self.paidOut = paidOut
        self.voided = voided
        self.refunded = refunded
        self.workflow = workflow
        self.catalogue = catalogue
    }

    public var pending: Int { bets - won - lost - voided }
}
