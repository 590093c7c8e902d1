import Testing

@testable import BetMaker

/// Why a catalogue event takes no bets (`CatalogueEvent.closedReason(at:)`), in the placing scripts' order.
@Suite struct CatalogueEventTests {
    static func event(open: Bool = true, result: EventResult? = nil, state: EventState = .open) -> CatalogueEvent {
        CatalogueEvent(
            id: "e", title: "E", homeTeam: "A", awayTeam: "B", startsAt: 1_000, odds: Odds(hundredths: 200), isOpen: open, result: result,
            state: state)
    }

    @Test func bettingClosesAtTheStartTimeItself() {
        #expect(Self.event().closedReason(at: 999) == nil)
        #expect(Self.event().takesBets(at: 999))
        #expect(Self.event().closedReason(at: 1_000) == .started)
        #expect(Self.event().closedReason(at: 5_000) == .started)
    }

    @Test func aResultThenTheOperatorThenATraderComeBeforeTheStart() {
        #expect(Self.event(state: .assigned).closedReason(at: 999) == nil)
        #expect(Self.event(state: .inProgress).closedReason(at: 999) == .taken)
        #expect(Self.event(state: .inProgress).closedReason(at: 5_000) == .taken)
        #expect(Self.event(open: false, state: .inProgress).closedReason(at: 5_000) == .closedByOperator)
        #expect(Self.event(open: false, result: .win, state: .resulted).closedReason(at: 999) == .resulted)
        #expect(Self.event(result: .void, state: .void).closedReason(at: 999) == .void)
    }
}
