/// Polls `condition` until it holds, for state that another process changes on its own schedule
/// (a worker settling, a server coming back). Bounded by `timeout`; returns whether it held.
nonisolated(nonsending) public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: interval)
    }
    return (try? await condition()) == true
}
