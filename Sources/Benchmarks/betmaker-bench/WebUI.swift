import BetMaker
import BetMakerAPI
import Foundation
import RedisClient
import TestSupport

/// `make bench`, the web UI: the time to render a page of 50 bets (the route's own code), and the
/// memory one API process spends per idle live-update stream (`GET /ui/stream`), with 1,000 held open.
/// Returns the rows of its table.
func benchWebUI(server: RedisServer, redis: RedisClient, keys: RedisKeys) async throws -> [String] {
    // 1. Rendering: 50 bets with money, as a player's "My bets" shows them.
    let player = User(id: 1, login: "bench-player", role: .player, status: .active, createdAt: 0, activatedAt: 0)
    let wager = Wager(userID: 1, accountID: 1, odds: Odds(hundredths: 185), payout: Money(cents: 1850))
    var bets: [Bet] = []
    for index in 0..<50 {
        let id = BetID(eventID: "bench-event-\(index % 5)", serial: "0BENCH" + String(100_000 + index))
        let status: BetStatus = index % 3 == 0 ? .won : .pending
        let createdAt: Int64 = 1_795_000_000_000 + Int64(index)
        bets.append(
            Bet(
                id: id, amount: Money(cents: 1000 + Int64(index)), status: status,
                createdAt: createdAt,
                wager: wager))
    }
    for _ in 0..<200 { _ = try WebUIBenchmark.renderMyBets(bets, player: player) }
    let renders = 2_000
    var bytes = 0
    let renderStart = ContinuousClock.now
    for _ in 0..<renders { bytes = try WebUIBenchmark.renderMyBets(bets, player: player) }
    let perRender = Double((ContinuousClock.now - renderStart).inMilliseconds) / Double(renders)

    // 2. 1,000 idle streams held by one API process: its resident memory before and after. A user may
    // hold `LIVE_STREAMS_PER_USER` (10) streams, so 100 viewers hold 10 each, as 100 users with 10 tabs
    // open would; two more warm the process up.
    let accounts = AccountStore(redis: redis, keys: keys)
    let tokens = try await TokenAuthority(secret: Array(BetMakerProcesses.testJWTSecret.utf8), lifetime: .seconds(3600))
    var viewers: [String] = []
    for index in 0..<102 {
        guard case .created(let user, _, _) = try await accounts.register(login: "bench-viewer-\(index)", passwordHash: "x", active: true)
        else { throw TestSupportError("no viewer \(index)") }
        viewers.append(try await tokens.issue(userID: user.id).token)
    }
    let (api, baseURL) = try await BetMakerProcesses.startAPI(redis: server)
    let port = Int(baseURL.split(separator: ":").last ?? "") ?? 0
    // Warm the process up with a few streams opened and closed, so the figure is what idle streams add.
    for socket in try (0..<20).map({ try openStream(port: port, token: viewers[100 + $0 % 2]) }) { close(socket) }
    let before = residentBytes(pid: api.pid)
    let streams = 1_000
    var sockets: [Int32] = []
    for index in 0..<streams { sockets.append(try openStream(port: port, token: viewers[index % 100])) }
    let after = residentBytes(pid: api.pid)
    for socket in sockets { close(socket) }
    await api.stop()
    let perStream = Double(after - before) / Double(streams)
    return [
        String(format: "| render of a 50-bet \"My bets\" page (%d bytes) | %.3f ms | a few ms |", bytes, perRender),
        String(
            format: "| %d idle live-update streams in one API process | %.1f KiB each (RSS %.1f → %.1f MiB) | bounded |", streams,
            perStream / 1024, Double(before) / 1_048_576, Double(after) / 1_048_576),
    ]
}

/// A connected socket whose `GET /ui/stream` has been answered (its first bytes read).
private func openStream(port: Int, token: String) throws -> Int32 {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestSupportError("socket: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestSupportError("connect: \(errno)") }
    let request =
        "GET /ui/stream HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n"
    _ = request.withCString { write(socket, $0, strlen($0)) }
    var received = ""
    var buffer = [UInt8](repeating: 0, count: 1024)
    while !received.contains("retry: ") {
        let count = read(socket, &buffer, buffer.count)
        guard count > 0 else { throw TestSupportError("the stream closed: \(received)") }
        received += String(decoding: buffer[0..<count], as: UTF8.self)
    }
    return socket
}

/// The process's resident set (VmRSS of /proc/<pid>/status), in bytes.
private func residentBytes(pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}
