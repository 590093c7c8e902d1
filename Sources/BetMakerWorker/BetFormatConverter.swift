import BetMaker
import Logging
import RedisClient
import ServiceLifecycle

/// Runs `BetFormatMigration` once when the worker starts, beside settlement (which reads a hash it
/// has not converted yet just as well), retrying while Redis is unreachable. It then ends; the
/// worker goes on.
struct BetFormatConverter: Service {
    let migration: BetFormatMigration
    let retryBackoff: Backoff.Policy
    let logger: Logger

    func run() async throws {
        var backoff = Backoff(retryBackoff)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try await cancelWhenGracefulShutdown { try await migration.run() }
                logger.info(
                    "Bets stored as hashes converted to strings",
                    metadata: ["converted": "\(report.converted)", "kept": "\(report.kept.count)"])
                if !report.kept.isEmpty {
                    // Damaged before the upgrade; the invariant checker says how.
                    logger.warning(
                        "Bets left as hashes: packing would lose a field", metadata: ["keys": "\(report.kept.prefix(20))"])
                }
                return
            } catch let error as RedisError where error.isConnectivity {
                let delay = backoff.next()
                logger.warning(
                    "Converting bets stored as hashes failed, retrying",
                    metadata: ["error": "\(error)", "retry_in_ms": "\(delay.inMilliseconds)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("Converting bets stored as hashes failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
