import BetMaker
import Testing

/// The entries of an event's bet list, as settlement and the listings read them.
@Suite struct EventListEntryTests {
    @Test func readsABareIdAndAnIdWithItsOwner() throws {
        let bare = try #require(EventListEntry("35HMXS1W8X01"))
        #expect(bare.serial == "35HMXS1W8X01" && bare.owner == nil)
        let owned = try #require(EventListEntry("35HMXS1W8X01:7:9"))
        #expect(owned.serial == "35HMXS1W8X01" && owned.owner?.userID == 7 && owned.owner?.accountID == 9)
    }

    @Test(arguments: ["35HMXS1W8X01:7", "35HMXS1W8X01:7:9:1", "35HMXS1W8X01:x:9", "35HMXS1W8X01:0:9", "35HMXS1W8X01:7:", ":"])
    func refusesAMalformedEntry(_ text: String) {
        #expect(EventListEntry(text) == nil)
    }
}
