import NIOCore
import Synchronization

/// Where the reply to one pending command goes. The continuations are unsafe (no checking canary
/// allocated per command): the handler resumes each exactly once, turning it into `.abandoned` or
/// dropping it from the queue as it does.
enum ReplySink {
    case single(UnsafeContinuation<RESPValue, any Error>)
    case batch(BatchCollector, index: Int)
    /// The caller was cancelled: the reply is still read, and dropped, so later replies stay matched.
    case abandoned
}

/// Gathers the replies of a pipelined batch and hands them over together, to a waiting task or to a
/// promise (for batches submitted now and awaited later).
final class BatchCollector {
    enum Receiver {
        case continuation(UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>)
        case promise(EventLoopPromise<[Result<RESPValue, RedisError>]>)
        /// One node's part of a cluster pipeline.
        case fanIn(FanIn, part: Int)
    }

    private var results: [Result<RESPValue, RedisError>]
    private var remaining: Int
    private var receiver: Receiver?

    init(count: Int, receiver: Receiver) {
        self.results = Array(repeating: .failure(.connectionClosed("no reply")), count: count)
        self.remaining = count
        self.receiver = receiver
    }

    func complete(_ index: Int, with result: Result<RESPValue, RedisError>) {
        results[index] = result
        remaining -= 1
        if remaining == 0, let receiver {
            self.receiver = nil
            switch receiver {
            case .continuation(let continuation): continuation.resume(returning: results)
            case .promise(let promise): promise.succeed(results)
            case .fanIn(let fanIn, let part): fanIn.complete(part, with: .success(results))
            }
        }
    }

    /// Fails the whole batch at once (connection lost, timeout, cancellation).
    func fail(_ error: any Error) {
        guard let receiver else { return }
        self.receiver = nil
        switch receiver {
        case .continuation(let continuation): continuation.resume(throwing: error)
        case .promise(let promise): promise.fail(error)
        case .fanIn(let fanIn, let part): fanIn.complete(part, with: .failure(error))
        }
    }
}

/// Gathers the batches of one cluster pipeline, one per node and each completed on its connection's
/// event loop, and resumes the waiting task once, when the last has come: one wake-up per pipeline
/// rather than one per node.
final class FanIn: Sendable {
    typealias Part = Result<[Result<RESPValue, RedisError>], any Error>

    private let state: Mutex<(parts: [Part], remaining: Int)>
    private let continuation: UnsafeContinuation<[Part], Never>

    init(parts: Int, continuation: UnsafeContinuation<[Part], Never>) {
        self.state = Mutex((Array(repeating: .failure(RedisError.connectionUnavailable("not sent")), count: parts), parts))
        self.continuation = continuation
    }

    func complete(_ part: Int, with result: Part) {
        let finished = state.withLock { state -> [Part]? in
            state.parts[part] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.parts : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}
