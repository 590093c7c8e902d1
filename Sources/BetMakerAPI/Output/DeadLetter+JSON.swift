import BetMaker
import BetMakerRuntime

extension DeadLetter {
    /// The dead letter as administrators see it; a field name repeated in the entry is shown once.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("dead_lettered_at", timestamp: deadLetteredAt)
        json.field("entry_id", entryID)
        json.field("reason", reason)
        json.field("deliveries", deliveries)
        json.key("fields")
        json.beginObject()
        var written = Set<String>()
        for (name, value) in fields where written.insert(name).inserted { json.field(name, value) }
        json.endObject()
        json.endObject()
    }
}
