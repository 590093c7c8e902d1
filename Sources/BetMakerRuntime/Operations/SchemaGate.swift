import BetMaker
import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// Keeps a process off data it does not understand (`StorageSchema`). As a service it checks the
/// store's schema version as soon as Redis answers (retrying while it does not), then opens; on data
/// of another version it logs why and fails, which stops the process. Until it opens, the API answers
/// 503 and the worker's loops wait (`waitUntilOpen`), so nothing reads or writes the store unchecked;
/// `/health/ready` shows it as `storage_schema`.
public final class SchemaGate: Service, Sendable {
    private let redis: RedisClient
    private let keys: RedisKeys
    private let logger: Logger
    private let retryBackoff: Backoff.Policy
    private let state = Mutex<State>(.checking(waiters: []))

    private enum State {
        case checking(waiters: [CheckedContinuation<Void, any Error>])
        case open
        case refused(String)
    }

    public init(
        redis: RedisClient, keys: RedisKeys, logger: Logger,
        retryBackoff: Backoff.Policy = .init(initial: .milliseconds(100), maximum: .seconds(2))
    ) {
        self.redis = redis
        self.keys = keys
        self.logger = logger
        self.retryBackoff = retryBackoff
    }

    public var isOpen: Bool {
        state.withLock { if case .open = $0 { true } else { false } }
    }

    /// Opens, then stays until shutdown: a service that returned would stop its group.
    public func run() async throws {
        try await open()
        try? await gracefulShutdown()
    }

    /// Checks the store (retrying while Redis does not answer) and opens; throws `Refusal` on data of
    /// another version.
    public func open() async throws {
        var backoff = Backoff(retryBackoff)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                return try await openNow()
            } catch let error as RedisError where error.isConnectivity {
                let delay = backoff.next()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            }
        }
    }

    /// One check: returns once open; throws the Redis error when Redis does not answer, or `Refusal`.
    /// The API's requests call it while the gate is closed, so a request never waits for the service's
    /// next retry (and a router without the service, in tests, opens on its first request).
    public func openNow() async throws {
        switch state.withLock({ $0 }) {
        case .open: return
        case .refused(let reason): throw Refusal(description: reason)
        case .checking: break
        }
        let verdict = try await StorageSchema.check(redis: redis, keys: keys)
        if let refusal = StorageSchema.refusal(verdict, keys: keys) {
            if settle(.refused(refusal)) { logger.critical("Refusing to run: \(refusal)") }
            throw Refusal(description: refusal)
        }
        settle(.open)
    }

    /// Waits until the schema is checked; throws when it was refused, or on cancellation.
    public func waitUntilOpen() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    switch state {
                    case .open: return .success(())
                    case .refused(let reason): return .failure(Refusal(description: reason))
                    case .checking(var waiters):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters.append(continuation)
                        state = .checking(waiters: waiters)
                        return nil
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            // Waiters are few (one per worker loop) and end with the process: release them all.
            let waiting: [CheckedContinuation<Void, any Error>] = state.withLock { state in
                guard case .checking(let waiters) = state else { return [] }
                state = .checking(waiters: [])
                return waiters
            }
            for waiter in waiting { waiter.resume(throwing: CancellationError()) }
        }
    }

    /// For `/health/ready`: checks now if the gate is still closed, so readiness never waits for the
    /// service's next retry.
    public var readinessCheck: ReadinessCheck {
        ReadinessCheck("storage_schema") { [self] in try await openNow() }
    }

    /// Moves from checking to `outcome`; false when another check settled it first.
    @discardableResult
    private func settle(_ outcome: State) -> Bool {
        let waiting: [CheckedContinuation<Void, any Error>]? = state.withLock { state in
            guard case .checking(let waiters) = state else { return nil }
            state = outcome
            return waiters
        }
        guard let waiting else { return false }
        for waiter in waiting {
            switch outcome {
            case .refused(let reason): waiter.resume(throwing: Refusal(description: reason))
            default: waiter.resume()
            }
        }
        return true
    }

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }
}

/// A service that starts only once the schema gate opens (the worker's loops).
public struct GatedService<Inner: Service>: Service {
    let gate: SchemaGate
    let inner: Inner

    public init(_ inner: Inner, behind gate: SchemaGate) {
        self.inner = inner
        self.gate = gate
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.waitUntilOpen() }
        } catch is CancellationError {
            return
        }
        try await inner.run()
    }
}
