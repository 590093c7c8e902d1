import BetMaker
import Hummingbird
import NIOCore
import RedisClient

/// `/health/live`: the process answers. `/health/ready`: it can do its job, i.e. Redis answers, the
/// scripts are loaded and the settlement stream's consumer group exists. Readiness repairs what it
/// can (loads scripts after a Redis restart flushed them, creates the group) before it answers.
struct HealthRoutes {
    let redis: RedisClient
    let keys: RedisKeys
    let group: String

    func register(on router: Router<APIRequestContext>) {
        router.get("/health/live") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/health/ready") { _, _ in try await ready() }
    }

    private func ready() async throws -> Response {
        var checks: [(String, String)] = []
        var healthy = true
        do {
            _ = try await redis.ping()
            checks.append(("redis", "ok"))
            if try await !redis.scriptsExist(Scripts.all) { try await redis.load(Scripts.all) }
            checks.append(("scripts", "ok"))
            try await redis.xgroupCreate(keys.eventsStream, group: group, startingAt: "0")
            checks.append(("consumer_group", "ok"))
        } catch {
            healthy = false
            checks.append((["redis", "scripts", "consumer_group"][checks.count], "\(error)"))
        }
        var json = JSONWriter()
        json.beginObject()
        json.field("status", healthy ? "ready" : "unavailable")
        json.key("checks")
        json.beginObject()
        for (name, state) in checks { json.field(name, state) }
        json.endObject()
        json.endObject()
        return Response(
            status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
