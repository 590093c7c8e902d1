import BetMaker
import Foundation
import RedisClient
import TestSupport

/// The soak, on an empty Redis: API and worker together under mixed load (80% POST /bets, 15% GET
/// /bets, 5% PUT /events/...), then settlement lag and the invariant checker. Returns the lines to print.
func benchSoak(server: RedisServer, redis: RedisClient, store: BetStore, keys: RedisKeys, options: Options) async throws -> [String] {
    var out: [String] = []
    // ASYNC: a synchronous flush of a million bets can outlast the command timeout on a loaded machine.
    _ = try await redis.send(RedisCommand("FLUSHALL", "ASYNC"))
    let (soakAPI, soakURL) = try await BetMakerProcesses.startAPI(redis: server)
    let soakWorker = try await BetMakerProcesses.startWorker(redis: server, name: "soak")
    // Bets go to the event of the current two-second window; results are reported for the event of
    // the window before last, so no bet races its own event's result (that would be a 409, and the
    // soak counts every status over 399 as an error).
    let soakScript = """
        local counter = 0
        request = function()
          counter = counter + 1
          local window = math.floor(os.time() / 2)
          local pick = counter % 20
          if pick < 16 then
            return wrk.format("POST", "/bets", {["Content-Type"] = "application/json"},
              '{"event_id": "soak-' .. window .. '", "amount": "' .. (counter % 500 + 1) .. '.25"}')
          elseif pick < 19 then
            return wrk.format("GET", "/bets?limit=20")
          else
            local closed = window - 2
            local result = (closed % 2 == 0) and "WIN" or "LOSE"
            return wrk.format("PUT", "/events/soak-" .. closed, {["Content-Type"] = "application/json"},
              '{"status": "' .. result .. '"}')
          end
        end

        """
    let firstWindow = Int(Date().timeIntervalSince1970) / 2
    let soak = try await wrk(
        soakURL, lua: soakScript, seconds: options.soak, connections: options.connections,
        cpu: try await CPUProbe.of(soakAPI.pid, redis: redis))
    let lastWindow = Int(Date().timeIntervalSince1970) / 2
    // The last windows' events had no time to get their result from the load; report them now.
    var events: [String] = []
    for window in firstWindow...lastWindow {
        let eventID = "soak-\(window)"
        _ = try await store.report(eventID: eventID, result: window % 2 == 0 ? .win : .lose)
        events.append(eventID)
    }
    var lags: [Int] = []
    for eventID in events {
        let event = keys.event(eventID)
        guard await poll(timeout: .seconds(120), every: .milliseconds(20), { try await redis.hget(event, "settled_at") != nil }).held
        else { throw TestSupportError("\(eventID) was not settled") }
        let times = try await redis.hmget(event, ["reported_at", "settled_at", "bets"])
        if (Int(times[2] ?? "0") ?? 0) > 0, let reported = times[0].flatMap({ Int($0) }), let settled = times[1].flatMap({ Int($0) }) {
            lags.append(settled - reported)
        }
    }
    await soakWorker.stop()
    await soakAPI.stop()
    lags.sort()
    let lagP99 = lags.isEmpty ? 0 : lags[min(lags.count - 1, lags.count * 99 / 100)]
    let invariants = try await InvariantChecker(redis: redis, keys: keys).check()
    out.append("")
    out.append("Soak, wrk -t2 -c\(options.connections) -d\(options.soak)s: 80% POST /bets, 15% GET /bets?limit=20, 5% PUT /events/{id}:")
    out.append("")
    out.append(
        "| req/s | API µs CPU / req | Redis µs CPU / req | p50 ms | p99 ms | errors | events settled | settlement lag p99 | invariant violations |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    out.append(
        String(
            format: "| %.0f | %.0f | %.0f | %.2f | %.2f | %d | %d | %d ms | %d (%d bets checked) |", soak.rate, soak.cpu.process,
            soak.cpu.redis,
            soak.p50, soak.p99, soak.errors, lags.count, lagP99, invariants.violationCount, invariants.bets))
    return out
}
