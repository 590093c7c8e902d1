import CoreMetrics
import Crypto

/// A Lua script known by its source and its SHA1. Calls go by `EVALSHA`; when the server does not
/// know the script (`NOSCRIPT`: after a restart or `SCRIPT FLUSH`), the call is repeated with `EVAL`,
/// which also caches the script again. `NOSCRIPT` means the script did not run, so repeating is safe.
public struct RedisScript: Sendable, Hashable {
    public let name: String
    public let source: String
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    public func evalshaCommand(keys: [String], arguments: [String]) -> RedisCommand {
        var command = command("EVALSHA", sha1, keys: keys, arguments: arguments)
        command.scriptSource = source
        return command
    }

    /// False for a script marked `#!lua flags=no-writes`: it only reads.
    public var mayWrite: Bool { !source.hasPrefix("#!lua flags=no-writes") }

    public func evalCommand(keys: [String], arguments: [String]) -> RedisCommand {
        command("EVAL", source, keys: keys, arguments: arguments)
    }

    private func command(_ verb: String, _ body: String, keys: [String], arguments: [String]) -> RedisCommand {
        let size = body.utf8.count + keys.reduce(0) { $0 + 4 + $1.utf8.count } + arguments.reduce(0) { $0 + 4 + $1.utf8.count }
        var command = RedisCommand(verb, capacity: size + 32)
        command.append(body)
        command.append(keys.count)
        command.append(contentsOf: keys)
        command.append(contentsOf: arguments)
        return command
    }
}

extension RedisCommandSender {
    /// Runs a script by SHA1, loading it transparently when Redis does not have it.
    @discardableResult
    public func eval(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws -> RESPValue {
        if let acknowledgement = replicaAcknowledgement, script.mayWrite {
            return try await eval(script, keys: keys, arguments: arguments, acknowledgedBy: acknowledgement)
        }
        do {
            return try await send(script.evalshaCommand(keys: keys, arguments: arguments))
        } catch let error as RedisError where error.serverCode == "NOSCRIPT" {
            return try await send(script.evalCommand(keys: keys, arguments: arguments))
        }
    }

    /// The script and a `WAIT` behind it on the same connection (the cluster client keeps a keyless
    /// command with the command before it). The script's reply is returned whatever `WAIT` says: the
    /// write is done on the master; too few replicas only count in `redis_replica_acknowledgements_missing_total`.
    private func eval(
        _ script: RedisScript, keys: [String], arguments: [String], acknowledgedBy acknowledgement: ReplicaAcknowledgement
    ) async throws -> RESPValue {
        let wait = RedisCommand.wait(replicas: acknowledgement.replicas, timeout: acknowledgement.timeout)
        var replies = try await pipeline([script.evalshaCommand(keys: keys, arguments: arguments), wait])
        if case .failure(let error) = replies[0], error.serverCode == "NOSCRIPT" {
            replies = try await pipeline([script.evalCommand(keys: keys, arguments: arguments), wait])
        }
        let reply = try replies[0].get()
        let acknowledged = (try? replies[1].get().int(for: "WAIT")) ?? 0
        if acknowledged < acknowledgement.replicas { ReplicaAcknowledgement.missing.increment() }
        return reply
    }

    /// Loads scripts ahead of time, so a readiness check can report them present.
    public func load(_ scripts: [RedisScript]) async throws {
        try await loadScripts(scripts)
    }

    /// True when the server has every one of `scripts` cached.
    public func scriptsExist(_ scripts: [RedisScript]) async throws -> Bool {
        try await scriptsCached(scripts)
    }

    func loadScripts(_ scripts: [RedisScript]) async throws {
        let replies = try await pipeline(scripts.map { RedisCommand("SCRIPT", "LOAD", $0.source) })
        for reply in replies { _ = try reply.get() }
    }

    func scriptsCached(_ scripts: [RedisScript]) async throws -> Bool {
        var command = RedisCommand("SCRIPT", "EXISTS")
        command.append(contentsOf: scripts.map(\.sha1))
        let reply = try await send(command)
        return try reply.array(for: command).allSatisfy { $0 == .integer(1) }
    }
}
