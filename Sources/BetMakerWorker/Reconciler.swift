import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Runs the hold reconciler (`HoldReconciler`) every `interval`: the worker's part of money across
/// slots that finishes what a crash or a lost reply left half-done. Passes of several workers may
/// overlap: every step is idempotent, so they only repeat each other's answers.
public struct Reconciler: Service {
    let reconciler: HoldReconciler
    let interval: Duration
    let logger: Logger
    let posted = Counter(label: "holds_reconciled_total", dimensions: [("outcome", "posted")])
    let voided = Counter(label: "holds_reconciled_total", dimensions: [("outcome", "voided")])
    let failed = Counter(label: "holds_reconcile_failures_total")

    public init(reconciler: HoldReconciler, interval: Duration, logger: Logger) {
        self.reconciler = reconciler
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "Hold reconciler starting",
            metadata: ["interval_ms": "\(interval.inMilliseconds)", "maximum_age_ms": "\(reconciler.maximumAge.inMilliseconds)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let pass = try await reconciler.reconcile()
                posted.increment(by: pass.posted)
                voided.increment(by: pass.voided)
            } catch is CancellationError {
                break
            } catch {
                failed.increment()
                logger.warning("Hold reconciler pass failed, retrying", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        logger.info("Hold reconciler stopped")
    }
}
