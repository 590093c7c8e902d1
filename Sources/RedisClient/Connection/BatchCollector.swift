import NIOCore

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
        }
    }
}
