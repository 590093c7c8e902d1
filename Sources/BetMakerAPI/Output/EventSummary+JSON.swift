import BetMaker
import BetMakerRuntime

extension EventSummary {
    /// An event as `GET /events/{event_id}` shows it: its status, workflow, counts, money and catalogue entry.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("event_id", id)
        json.field("status", result?.rawValue ?? "open")
        json.field("state", workflow.state.rawValue)
        json.field("trader_id", workflow.traderID)
        json.field("assigned_at", timestamp: workflow.assignedAt)
        json.field("taken_at", timestamp: workflow.takenAt)
        json.field("voided_at", timestamp: workflow.voidedAt)
        json.field("void_reason", workflow.voidReason)
        json.key("bets")
        json.beginObject()
        json.field("total", bets)
        json.field("pending", pending)
        json.field("won", won)
        json.field("lost", lost)
        json.field("void", voided)
        json.endObject()
        json.field("total_staked", staked.description)
        json.field("total_paid_out", paidOut.description)
        json.field("total_refunded", refunded.description)
        json.field("reported_at", timestamp: reportedAt)
        json.field("settled", settledAt != nil)
        json.field("settled_at", timestamp: settledAt)
        json.key("catalogue")
        if let catalogue { catalogue.write(to: &json) } else { json.null() }
        json.endObject()
    }
}
