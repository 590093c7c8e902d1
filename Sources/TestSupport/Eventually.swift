import Testing

/// What `poll` saw: whether the condition held, after how many attempts, and what the last attempt
/// threw if it threw.
public struct Polled: Sendable, CustomStringConvertible {
    public let held: Bool
    public let attempts: Int
    public let timeout: Duration
    public let lastError: String?

    public var description: String {
        held
            ? "held after \(attempts) attempt(s)"
            : "did not hold within \(timeout) (\(attempts) attempts); the last attempt \(lastError.map { "threw \($0)" } ?? "returned false")"
    }
}

/// Polls `condition` until it holds, for state that another process changes on its own schedule
/// (a worker settling, a server coming back). Bounded by `timeout`, with one more attempt after it,
/// so a condition that became true while sleeping counts.
nonisolated(nonsending) public func poll(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async -> Polled {
    let deadline = ContinuousClock.now + timeout
    var attempts = 0
    var lastError: (any Error)?
    while true {
        let last = ContinuousClock.now >= deadline
        attempts += 1
        do {
            lastError = nil
            if try await condition() { return Polled(held: true, attempts: attempts, timeout: timeout, lastError: nil) }
        } catch {
            lastError = error
        }
        if last { break }
        try? await Task.sleep(for: interval)
    }
    return Polled(held: false, attempts: attempts, timeout: timeout, lastError: lastError.map { "\($0)" })
}

/// `poll` for tests: whether the condition held. When it did not, an issue is recorded at the call
/// site saying what the last attempt threw or that it returned false, so
/// `#expect(await eventually { ... })` fails with the reason rather than with a bare `false`.
nonisolated(nonsending) public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async -> Bool {
    let polled = await poll(timeout: timeout, every: interval, condition)
    if !polled.held { Issue.record("The condition \(polled)", sourceLocation: sourceLocation) }
    return polled.held
}
