import Logging

/// Sets up swift-log for a bet-maker process: human-readable lines, or one JSON object per line
/// (`LOG_FORMAT=json`) for log collectors. Both go to standard output, which `docker compose logs` reads.
public func bootstrapLogging(format: Settings.LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            switch format {
            case .text: StreamLogHandler.standardOutput(label: label)
            case .json: JSONLogHandler(label: label)
            }
        handler.logLevel = level
        return handler
    }
}
