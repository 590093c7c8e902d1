import BetMaker
import Metrics

/// The worker's own metrics; the stream gauges are sampled at each scrape instead (`StreamGauges`).
struct WorkerMetrics: Sendable {
    let won = Counter(label: "bets_settled_total", dimensions: [("outcome", "won")])
    let lost = Counter(label: "bets_settled_total", dimensions: [("outcome", "lost")])
    let voided = Counter(label: "bets_settled_total", dimensions: [("outcome", "void")])
    let events = Counter(label: "events_settled_total")
    let lag = Timer(label: "settlement_lag_seconds")
    let deadLettered = Counter(label: "stream_dead_lettered_total")
    let requeued = Counter(label: "events_requeued_total")

    func recordSettled(_ report: Settler.Report, reportedAt: Int64?) {
        events.increment()
        switch report.result {
        case .win: won.increment(by: report.flipped)
        case .lose: lost.increment(by: report.flipped)
        case .void: voided.increment(by: report.flipped)
        }
        if let reportedAt { lag.recordMilliseconds(max(0, currentMilliseconds() - reportedAt)) }
    }
}
