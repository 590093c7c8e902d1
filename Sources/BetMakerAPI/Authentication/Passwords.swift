import BetMaker
import Crypto
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Password hashing with bcrypt. It costs tens of milliseconds of CPU by design, so it runs on NIO's
/// blocking thread pool, never on an event loop or Swift's cooperative threads, which serve every
/// other request; and at most `slots` hashes run at once, with at most `queueLimit` waiting behind
/// them. A request past that is refused at once (503 with `Retry-After`, docs/decisions/0283) rather
/// than queued without bound, so a flood of logins delays other logins by a bounded time and takes at
/// most `slots` cores from everything else.
public struct Passwords: Sendable {
    public let cost: Int
    /// A hash of the same cost that no password matches, checked when a login does not exist so that
    /// unknown and known logins take the same time.
    private let decoy: String
    private let gate: HashingGate

    /// Every slot was busy and the queue full: retry after `retryAfter`.
    public struct Busy: Error, Sendable {
        public let retryAfter: Duration
    }

    public init(cost: Int, slots: Int = 1, queueLimit: Int = Int.max / 2) async throws {
        self.cost = cost
        self.gate = HashingGate(slots: slots, queueLimit: queueLimit)
        let text = Base64URL.encode(randomBytes(24))
        self.decoy = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(text, cost: UInt8(cost)) }
    }

    /// Passwords are 8 to 72 characters (Unicode code points, as JSON Schema counts them).
    public static let minimumCharacters = 8
    public static let maximumCharacters = 72
    /// bcrypt reads at most 72 bytes and ignores the rest.
    static let bcryptBytes = 72

    /// What bcrypt is given: the password itself when it fits bcrypt's 72 bytes (every ASCII
    /// password, and every hash made before this rule), else the base64url of its SHA-256, as
    /// passlib's `bcrypt_sha256` does, so that no character of a long non-ASCII password is ignored.
    static func bcryptInput(_ password: String) -> String {
        password.utf8.count <= bcryptBytes ? password : Base64URL.encode(Array(SHA256.hash(data: Array(password.utf8))))
    }

    /// Throws `Busy` when the pool and its queue are full.
    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        let input = Self.bcryptInput(password)
        return try await gate.run { try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) } }
    }

    /// Checks `password` against `hash`, or against the decoy when there is no user. Throws `Busy`
    /// when the pool and its queue are full.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let decoy = decoy
        let input = Self.bcryptInput(password)
        let matches = try await gate.run {
            try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash ?? decoy) }
        }
        return matches && hash != nil
    }
}

/// At most `slots` bodies at once, at most `queueLimit` waiting for a slot in arrival order; past
/// that, `Passwords.Busy` with an estimate of when a slot frees, from the mean time of recent hashes.
final class HashingGate: Sendable {
    let slots: Int
    let queueLimit: Int

    private enum Admission: Sendable { case run, refuse(Duration) }

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Admission, Never>] = []
        /// An exponentially weighted mean of how long a hash took, in seconds.
        var meanSeconds = 0.25
    }

    private let state = Mutex(State())

    init(slots: Int, queueLimit: Int) {
        self.slots = max(1, slots)
        self.queueLimit = max(0, queueLimit)
    }

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        // One decision under the lock: run now, wait in line (`release` hands the slot over), or refuse.
        let admission = await withCheckedContinuation { (continuation: CheckedContinuation<Admission, Never>) in
            let decided: Admission? = state.withLock { state in
                if state.running < slots {
                    state.running += 1
                    return .run
                }
                if state.waiting.count >= queueLimit {
                    // Everybody ahead (running and waiting) shares the slots.
                    let ahead = Double(state.running + state.waiting.count) / Double(slots)
                    return .refuse(.milliseconds(Int64((ahead * state.meanSeconds * 1000).rounded(.up))))
                }
                state.waiting.append(continuation)
                return nil
            }
            if let decided { continuation.resume(returning: decided) }
        }
        if case .refuse(let retryAfter) = admission { throw Passwords.Busy(retryAfter: retryAfter) }
        let started = ContinuousClock.now
        defer { release(took: ContinuousClock.now - started) }
        return try await body()
    }

    private func release(took: Duration) {
        let (seconds, attoseconds) = took.components
        let next: CheckedContinuation<Admission, Never>? = state.withLock { state in
            state.meanSeconds = state.meanSeconds * 0.8 + (Double(seconds) + Double(attoseconds) / 1e18) * 0.2
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            // The slot passes straight to the first waiter: `running` stays as it is.
            return state.waiting.removeFirst()
        }
        next?.resume(returning: .run)
    }
}
