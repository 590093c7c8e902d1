import Foundation
import TestSupport
import Testing

/// No Docker engine runs in CI, but the compose file is still checked by docker-compose itself.
@Suite struct ComposeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `docker-compose config`: its exit status and output (read by `ChildProcess`, which survives signals).
    private func composeConfig(environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(
            name: "docker-compose config", executable: try findExecutable("docker-compose"),
            arguments: [
                "--project-directory", Self.repository.path, "-f", Self.repository.appendingPathComponent("docker-compose.yml").path,
                "config",
            ],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"].merging(environment) { $1 })
        return await process.waitForCompletion()
    }

    @Test func composeFileIsValidAndWiresTheServicesTogether() async throws {
        let (status, output) = try await composeConfig()
        #expect(status == 0, "\(output)")
        for service in ["redis:", "api:", "worker:"] { #expect(output.contains("  \(service)")) }
        #expect(output.contains("condition: service_healthy"))
        #expect(output.contains("--appendonly"))
        #expect(output.contains("/app/betmaker-api"))
        #expect(output.contains("healthcheck"))
        #expect(output.contains("/app/betmaker-worker"))
        #expect(output.contains("REDIS_URL: redis://redis:6379/0"))
        #expect(output.contains("dockerfile: docker/Dockerfile"))
    }

    @Test func bothProcessesHaveHealthChecksOnTheirReadiness() async throws {
        let (status, output) = try await composeConfig()
        #expect(status == 0, "\(output)")
        // The API's and the worker's: each runs the executable's own probe of /health/ready.
        #expect(output.components(separatedBy: "healthcheck").count - 1 >= 3, "redis, api and worker each have one")
        #expect(output.contains("- /app/betmaker-api\n      - healthcheck"))
        #expect(output.contains("- /app/betmaker-worker\n      - healthcheck"))
        #expect(output.contains("WORKER_HTTP_HOST: 0.0.0.0"))
    }

    @Test func thePublishedPortComesFromTheSettings() async throws {
        let (status, output) = try await composeConfig(environment: ["WEB_SERVER_PORT": "9123"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("published: 9123") || output.contains("9123:9123"))
        #expect(output.contains("WEB_SERVER_PORT: '9123'") || output.contains("WEB_SERVER_PORT: \"9123\""))
    }
}
