import ArgumentParser

extension Settings {
    /// The settings of a command-line command: invalid settings print what is wrong and end the
    /// command with exit status 2.
    public static func loadForCommand(envFile: String) async throws -> Settings {
        do {
            return try await Settings.load(envFile: envFile)
        } catch let error as SettingsError {
            print("Invalid settings: \(error)")
            throw ExitCode(2)
        }
    }
}

extension HealthProbe {
    /// The `healthcheck` commands' work: asks `path` of a server listening on `host` (a wildcard
    /// address is asked on loopback) and ends the command with status 1 unless it answers 200.
    public static func check(host: String, port: Int, path: String) async throws {
        let status = try await status(host: host == "0.0.0.0" ? "127.0.0.1" : host, port: port, path: path)
        guard status == 200 else {
            print("\(path) answered \(status)")
            throw ExitCode(1)
        }
    }
}
