import BetMakerRuntime
import TestSupport
import Testing

/// The `healthcheck` subcommands' probe against servers that misbehave.
@Suite struct HealthProbeTests {
    /// A server that accepts the connection and never answers (hung, or its event loop blocked) must
    /// fail the probe once its timeout has passed; a container health check must not hang on it.
    @Test(.timeLimit(.minutes(1))) func aServerThatNeverAnswersFailsTheProbeAtItsTimeout() async throws {
        try await withSilentListener { port in
            let started = ContinuousClock.now
            await #expect(throws: HealthProbe.HealthProbeError.timedOut(.milliseconds(300))) {
                try await HealthProbe.status(host: "127.0.0.1", port: port, path: "/health/ready", timeout: .milliseconds(300))
            }
            // A generous bound: the point is that it ends, not how precisely.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func nothingListeningFailsTheProbeAtOnce() async throws {
        await #expect(throws: (any Error).self) {
            try await HealthProbe.status(host: "127.0.0.1", port: freeLoopbackPort(), path: "/health/ready", timeout: .seconds(30))
        }
    }
}
