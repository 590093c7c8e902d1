import TestSupport

/// The harness lives in TestSupport (`BetMakerSystem`), shared with the fault suite; these names keep
/// the end-to-end tests short.
typealias System = BetMakerSystem

/// Starts Redis, the API and clients, runs `body`, and stops and removes it all again.
nonisolated(nonsending) func withSystem(apiSettings: [String: String] = [:], _ body: (System) async throws -> Void) async throws {
    try await withBetMakerSystem(apiSettings: apiSettings, body)
}
