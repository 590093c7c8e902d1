/// Typed commands, written once for anything that sends (the pool and a dedicated connection), one
/// file per kind of value as Redis groups them: the server's own.
extension RedisCommandSender {
    /// `PING`: answers `PONG`.
    public func ping() async throws -> String {
        try await send(RedisCommand("PING")).string(for: "PING")
    }

    /// `INFO [section]` as the raw text Redis returns.
    public func info(_ section: String? = nil) async throws -> String {
        var command = RedisCommand("INFO")
        if let section { command.append(section) }
        return try await send(command).string(for: "INFO")
    }

    /// `INFO [section]` parsed into its `name:value` lines.
    public func infoFields(_ section: String? = nil) async throws -> [String: String] {
        var fields: [String: String] = [:]
        for line in try await info(section).split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            if let colon = line.firstIndex(of: ":") {
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
        }
        return fields
    }
}
