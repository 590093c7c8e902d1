import BetMaker
import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Runs the hold reconciler (`HoldReconciler`) and the stake confirmer (`StakeConfirmer`) every `interval`: the worker's part of money across
/// slots that finishes what a crash or a lost reply left half-done. Passes of several workers may
/// overlap: every step is idempotent, so they only repeat each other's answers.
public struct Reconciler: Service {
    let reconciler: HoldReconciler
    let confirmer: StakeConfirmer
    let interval: Duration
    let logger: Logger
    let posted = Counter(label: "holds_reconciled_total", dimensions: [("outcome", "posted")])
    let voided = Counter(label: "holds_reconciled_total", dimensions: [("outcome", "voided")])
    let failed = Counter(label: "holds_reconcile_failures_total")
    let restaked = Counter(label: "stakes_restaked_total")
    let stakesLost = Counter(label: "stakes_lost_total")

    public init(reconciler: HoldReconciler, confirmer: StakeConfirmer, interval: Duration, logger: Logger) {
        self.reconciler = reconciler
        self.confirmer = confirmer
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
                let stakes = try await confirmer.confirm()
                restaked.increment(by: stakes.restaked)
                stakesLost.increment(by: stakes.lost)
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
