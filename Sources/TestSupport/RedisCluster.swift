import Foundation
import RedisClient
import Synchronization

/// A real Redis Cluster for tests and benchmarks: `masters` masters with `replicasPerMaster` replicas
/// each, every node a `redis-server` on its own free loopback ports (client and cluster bus), joined by
/// `redis-cli --cluster create`. `withRedisCluster` starts it, waits until every node says
/// `cluster_state:ok` and agrees on the map, and removes it afterwards.
///
/// What it knows about the cluster it reads from the nodes themselves (`CLUSTER NODES`, `ROLE`), never
/// from the client under test.
public final class RedisCluster: Sendable {
    public let nodes: [RedisServer]
    /// `cluster-node-timeout`: how long a node must be unreachable before it is failed over.
    public let nodeTimeout: Duration

    init(nodes: [RedisServer], nodeTimeout: Duration) {
        self.nodes = nodes
        self.nodeTimeout = nodeTimeout
    }

    public var endpoints: [RedisEndpoint] { nodes.map { RedisEndpoint(host: "127.0.0.1", port: $0.port) } }

    /// The seed list as `REDIS_CLUSTER_NODES` takes it: `127.0.0.1:7001,127.0.0.1:7002,...`.
    public var seedList: String { endpoints.map(\.description).joined(separator: ",") }

    /// A client configuration in cluster mode with every node as a seed.
    public var configuration: RedisConfiguration {
        var configuration = RedisConfiguration()
        configuration.connectTimeout = RedisServer.testConnectTimeout
        configuration.cluster = RedisClusterOptions(seeds: endpoints)
        return configuration
    }

    public func node(at endpoint: RedisEndpoint) -> RedisServer? { nodes.first { $0.port == endpoint.port } }

    public func endpoint(of node: RedisServer) -> RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: node.port) }

    public var runningNodes: [RedisServer] { nodes.filter(\.isRunning) }

    // MARK: Starting and stopping

    public static func start(masters: Int = 3, replicasPerMaster: Int = 1, nodeTimeout: Duration = .seconds(2)) async throws -> RedisCluster
    {
        let count = masters * (1 + replicasPerMaster)
        let nodes = try await withThrowingTaskGroup(of: RedisServer.self) { group in
            for _ in 0..<count { group.addTask { try await startNode(nodeTimeout: nodeTimeout) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }.sorted { $0.port < $1.port }
        let cluster = RedisCluster(nodes: nodes, nodeTimeout: nodeTimeout)
        do {
            let create = try ChildProcess(
                name: "redis-cli --cluster create", executable: try findExecutable("redis-cli"),
                arguments: ["--cluster", "create"] + cluster.endpoints.map(\.description) + [
                    "--cluster-replicas", "\(replicasPerMaster)", "--cluster-yes",
                ])
            let (status, output) = await create.waitForCompletion(timeout: .seconds(120))
            guard status == 0 else { throw TestSupportError("redis-cli --cluster create failed (\(status)):\n\(output)") }
            try await cluster.waitUntilHealthy(timeout: .seconds(60))
            return cluster
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// A cluster node: a redis-server with its bus on a free port of its own (the default, port +
    /// 10000, may be beyond 65535 or taken). A bus port taken in between is tried again.
    private static func startNode(nodeTimeout: Duration) async throws -> RedisServer {
        var lastError: any Error = TestSupportError("no attempt")
        for _ in 0..<5 {
            do {
                return try await RedisServer.start(extraArguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "\(nodeTimeout.inMilliseconds)", "--cluster-port", "\(freeLoopbackPort())",
                ])
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Kills every node and removes its files.
    public func stop() async {
        for node in nodes {
            await node.kill()
            node.removeFiles()
        }
    }

    // MARK: Talking to one node

    /// Runs `body` with a connection of its own to `node` (no cluster mode: no redirects followed).
    public func withConnection<Result>(to node: RedisServer, _ body: (RedisConnection) async throws -> Result) async throws -> Result {
        let connection = try await RedisConnection.connect(configuration: node.configuration)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            connection.closeNow()
            throw error
        }
    }

    public func send(_ command: RedisCommand, to node: RedisServer) async throws -> RESPValue {
        try await withConnection(to: node) { try await $0.send(command) }
    }

    /// The node's view of the cluster (`CLUSTER NODES`).
    public func view(from node: RedisServer) async throws -> [ClusterNodeLine] {
        try ClusterNodeLine.parse(try await send(RedisCommand("CLUSTER", "NODES"), to: node).string(for: "CLUSTER NODES"))
    }

    /// `ROLE`'s first word: `master` or `slave`.
    public func role(of node: RedisServer) async throws -> String {
        try await send(RedisCommand("ROLE"), to: node).array(for: "ROLE").first?.string ?? ""
    }

    // MARK: The map, read from the nodes

    /// The running masters that serve slots, as the first running node sees them.
    public func masters() async throws -> [RedisServer] {
        guard let asked = runningNodes.first else { return [] }
        return try await view(from: asked).filter { $0.isMaster && !$0.slots.isEmpty && !$0.isFailed }.compactMap { node(at: $0.endpoint) }
    }

    /// The node that serves `slot`.
    public func owner(ofSlot slot: Int) async throws -> RedisServer {
        guard let asked = runningNodes.first else { throw TestSupportError("no node runs") }
        let view = try await view(from: asked)
        guard let line = view.first(where: { $0.isMaster && $0.slots.contains { $0.contains(slot) } }), let owner = node(at: line.endpoint)
        else {
            throw TestSupportError("no master serves slot \(slot)")
        }
        return owner
    }

    /// A running replica of `master`.
    public func replica(of master: RedisServer) async throws -> RedisServer {
        let view = try await view(from: master)
        guard let masterID = view.first(where: { $0.isMyself })?.id,
            let line = view.first(where: { $0.masterID == masterID && !$0.isFailed }), let replica = node(at: line.endpoint),
            replica.isRunning
        else { throw TestSupportError("port \(master.port) has no running replica") }
        return replica
    }

    /// Waits until every running node says `cluster_state:ok`, all agree on which master serves which
    /// slots (every slot served), and every replica's link to its master is up.
    public func waitUntilHealthy(timeout: Duration = .seconds(30)) async throws {
        let polled = await poll(timeout: timeout, every: .milliseconds(50)) { try await isHealthy() }
        guard polled.held else { throw TestSupportError("the Redis cluster did not become healthy: \(polled)") }
    }

    public func isHealthy() async throws -> Bool {
        var maps: Set<[String]> = []
        for node in runningNodes {
            let info = try await send(RedisCommand("CLUSTER", "INFO"), to: node).string(for: "CLUSTER INFO")
            guard info.contains("cluster_state:ok") else { return false }
            let view = try await view(from: node)
            let served = view.filter { $0.isMaster && !$0.slots.isEmpty }
            guard served.reduce(0, { $0 + $1.slots.reduce(0) { $0 + $1.count } }) == HashSlot.count,
                served.allSatisfy({ !$0.isFailed })
            else { return false }
            maps.insert(served.map { "\($0.endpoint) \($0.slots)" }.sorted())
            if try await role(of: node) == "slave" {
                let replication = try await send(RedisCommand("INFO", "replication"), to: node).string(for: "INFO")
                guard replication.contains("master_link_status:up") else { return false }
            }
        }
        return maps.count == 1
    }

    // MARK: Failures

    /// `CLUSTER FAILOVER` on `replica` (a controlled failover: its master stops taking writes, the
    /// replica catches up and takes over), then waits until it is master and the cluster is healthy.
    public func failover(to replica: RedisServer, timeout: Duration = .seconds(30)) async throws {
        _ = try await send(RedisCommand("CLUSTER", "FAILOVER"), to: replica)
        let promoted = await poll(timeout: timeout) { try await role(of: replica) == "master" }
        guard promoted.held else { throw TestSupportError("port \(replica.port) did not become master: \(promoted)") }
        try await waitUntilHealthy(timeout: timeout)
    }

    /// `kill -9` of `node`: a crash. Its replica takes over after about the node timeout plus 1-2 s.
    public func crash(_ node: RedisServer) async {
        await node.kill()
    }

    // MARK: Moving a slot

    /// Moves `slot` to `target` as `redis-cli --cluster reshard` does: the target `IMPORTING`, the
    /// owner `MIGRATING`, then `MIGRATE` of `keysPerBatch` keys at a time, and `SETSLOT ... NODE` on
    /// every master. `afterBatch` runs after each batch with the number of keys moved so far, and
    /// `beforeHandover` before the slot is handed over, so a test can watch its traffic meanwhile.
    public func migrate(
        slot: Int, to target: RedisServer, keysPerBatch: Int = 10, afterBatch: (Int) async throws -> Void = { _ in },
        beforeHandover: () async throws -> Void = {}
    ) async throws {
        let source = try await owner(ofSlot: slot)
        guard source.port != target.port else { return }
        let sourceID = try await send(RedisCommand("CLUSTER", "MYID"), to: source).string(for: "CLUSTER MYID")
        let targetID = try await send(RedisCommand("CLUSTER", "MYID"), to: target).string(for: "CLUSTER MYID")
        _ = try await send(RedisCommand("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID), to: target)
        _ = try await send(RedisCommand("CLUSTER", "SETSLOT", slot, "MIGRATING", targetID), to: source)
        var moved = 0
        while true {
            let keys = try await send(RedisCommand("CLUSTER", "GETKEYSINSLOT", slot, keysPerBatch), to: source).strings(
                for: "GETKEYSINSLOT")
            if keys.isEmpty { break }
            var migrate = RedisCommand("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS")
            migrate.append(contentsOf: keys)
            _ = try await send(migrate, to: source)
            moved += keys.count
            try await afterBatch(moved)
        }
        try await beforeHandover()
        // The target first, so that it never refuses the slot it is about to own.
        _ = try await send(RedisCommand("CLUSTER", "SETSLOT", slot, "NODE", targetID), to: target)
        _ = try await send(RedisCommand("CLUSTER", "SETSLOT", slot, "NODE", targetID), to: source)
        for master in try await masters() where master.port != source.port && master.port != target.port {
            _ = try await send(RedisCommand("CLUSTER", "SETSLOT", slot, "NODE", targetID), to: master)
        }
    }
}

/// One line of `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slots>...`.
public struct ClusterNodeLine: Sendable, Hashable {
    public let id: String
    public let endpoint: RedisEndpoint
    public let flags: Set<String>
    /// The master's id for a replica.
    public let masterID: String?
    public let slots: [ClosedRange<Int>]

    public var isMaster: Bool { flags.contains("master") }
    public var isMyself: Bool { flags.contains("myself") }
    public var isFailed: Bool { flags.contains("fail") }

    static func parse(_ text: String) throws -> [ClusterNodeLine] {
        try text.split(whereSeparator: \.isNewline).map { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 8 else { throw TestSupportError("unexpected CLUSTER NODES line: \(line)") }
            let address = fields[1].split(separator: "@")[0].split(separator: ",")[0]
            let endpoint = try RedisEndpoint(parsing: address)
            var slots: [ClosedRange<Int>] = []
            // Single slots and ranges; `[slot->-id]` marks of a migration are not ownership.
            for field in fields.dropFirst(8) where !field.hasPrefix("[") {
                let bounds = field.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 1 { slots.append(bounds[0]...bounds[0]) }
                if bounds.count == 2 { slots.append(bounds[0]...bounds[1]) }
            }
            return ClusterNodeLine(
                id: String(fields[0]), endpoint: endpoint, flags: Set(fields[2].split(separator: ",").map(String.init)),
                masterID: fields[3] == "-" ? nil : String(fields[3]), slots: slots)
        }
    }
}

/// Runs `body` with a fresh cluster (see `RedisCluster`), and removes it afterwards, also on failure.
nonisolated(nonsending) public func withRedisCluster<Result>(
    masters: Int = 3, replicasPerMaster: Int = 1, nodeTimeout: Duration = .seconds(2), _ body: (RedisCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await RedisCluster.start(masters: masters, replicasPerMaster: replicasPerMaster, nodeTimeout: nodeTimeout)
    do {
        let result = try await body(cluster)
        await cluster.stop()
        return result
    } catch {
        await cluster.stop()
        throw error
    }
}
