import CoreMetrics
import NIOCore

/// Per-command counters and latency timers, cached by command name. Each connection handler owns
/// one and touches it only on its event loop, so the hot path takes no lock.
final class CommandMetrics {
    private struct ForCommand {
        let calls: Counter
        let duration: Timer
    }

    private let factory: any MetricsFactory
    private var byCommand: [String: ForCommand] = [:]
    private var errors: [String: Counter] = [:]

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func recordReply(command: String, duration: TimeAmount, isError: Bool) {
        let metrics = forCommand(command)
        metrics.calls.increment()
        metrics.duration.recordNanoseconds(duration.nanoseconds)
        if isError { errorCounter(command: command, kind: "server").increment() }
    }

    func recordFailure(command: String, error: RedisError) {
        forCommand(command).calls.increment()
        let kind =
            switch error {
            case .timeout: "timeout"
            case .protocolError: "protocol"
            default: "connection"
            }
        errorCounter(command: command, kind: kind).increment()
    }

    private func forCommand(_ command: String) -> ForCommand {
        if let cached = byCommand[command] { return cached }
        let created = ForCommand(
            calls: Counter(label: "redis_commands_total", dimensions: [("command", command)], factory: factory),
            duration: Timer(label: "redis_command_duration_seconds", dimensions: [("command", command)], factory: factory)
        )
        byCommand[command] = created
        return created
    }

    private func errorCounter(command: String, kind: String) -> Counter {
        let key = command + "/" + kind
        if let cached = errors[key] { return cached }
        let created = Counter(label: "redis_command_errors_total", dimensions: [("command", command), ("kind", kind)], factory: factory)
        errors[key] = created
        return created
    }
}
