/// The calls that name a key's node or a node, for callers that hold a connection (in-order
/// submissions, blocking reads) or work node by node (`SCAN`, readiness). Each works in single-node
/// mode too, where every key and every node is the one server, so callers use them unconditionally.
extension RedisClient {
    /// True when the client talks to a Redis Cluster.
    public var isCluster: Bool {
        if case .cluster = mode { return true }
        return false
    }

    /// A pooled connection (shared, not leased) to the master that owns `key`'s slot, for several
    /// `submit`ted batches that must run in order on one node (`Settler`).
    ///
    /// Cluster mode: the connection stays with that node. When the slot moves, the node answers `MOVED`
    /// and the caller gets `RedisError.redirected` (the client's map has learned the new owner by
    /// then): nothing ran, and a new `connection(forKey:)` goes to the new owner. `ASK` (the slot is
    /// being migrated) comes the same way; `send` and `pipeline` follow it.
    public func connection(forKey key: String) async throws -> RedisConnection {
        switch mode {
        case .single(let pool): try await pool.connection()
        case .cluster(let router): try await router.pool(forSlot: HashSlot.of(key)).connection()
        }
    }

    /// A new connection (the caller owns and closes it) to the master that owns `key`'s slot, for
    /// blocking reads of a stream (`XREADGROUP ... BLOCK`). Redirects come as in `connection(forKey:)`.
    public func dedicatedConnection(forKey key: String) async throws -> RedisConnection {
        switch mode {
        case .single(let pool): try await pool.dedicatedConnection()
        case .cluster(let router): try await router.pool(forSlot: HashSlot.of(key)).dedicatedConnection()
        }
    }

    /// The masters as the client's map has them (single node: the server). Waits for the first map.
    public func masters() async throws -> [RedisEndpoint] {
        switch mode {
        case .single: [RedisEndpoint(host: configuration.host, port: configuration.port)]
        case .cluster(let router): try await router.masters()
        }
    }

    /// A pooled connection (shared) to `node`, e.g. a master from `masters()` to `SCAN` its keys.
    /// Single node: the server's, whatever `node` says.
    public func connection(to node: RedisEndpoint) async throws -> RedisConnection {
        switch mode {
        case .single(let pool): try await pool.connection()
        case .cluster(let router): try await router.pool(at: node).connection()
        }
    }

    /// Sends `command` to every master at once (`PING` for readiness, `SCRIPT LOAD`, `DBSIZE`) and
    /// returns each master's reply. Nothing is retried: a master that failed says so in its reply.
    public func sendToEveryMaster(_ command: RedisCommand) async throws -> [(node: RedisEndpoint, reply: Result<RESPValue, RedisError>)] {
        var submitted: [(node: RedisEndpoint, batch: Result<SubmittedBatch, RedisError>)] = []
        for node in try await masters() {
            do {
                submitted.append((node, .success(try await connection(to: node).submit([command]))))
            } catch let error as RedisError {
                submitted.append((node, .failure(error)))
            }
        }
        var replies: [(node: RedisEndpoint, reply: Result<RESPValue, RedisError>)] = []
        for (node, batch) in submitted {
            do {
                replies.append((node, try await batch.get().replies()[0]))
            } catch let error as RedisError {
                replies.append((node, .failure(error)))
            }
        }
        return replies
    }

    /// Sends a write followed by `WAIT replicas timeout` on the same connection, so the `WAIT` counts
    /// the replicas that have this write. Returns the write's reply and how many replicas acknowledged
    /// it within `timeout` (replication stays asynchronous: this narrows the window in which a failover
    /// loses an acknowledged write, it does not close it).
    ///
    /// A `WAIT` that fails after the write succeeded (its node just lost its replica or its role) counts
    /// as no replica: the write is done, and a thrown error would read as "not run".
    ///
    /// - Throws: the write's error.
    public func send(
        _ command: RedisCommand, waitingForReplicas replicas: Int, timeout: Duration
    ) async throws -> (reply: RESPValue, replicas: Int) {
        let replies = try await pipeline([command, .wait(replicas: replicas, timeout: timeout)])
        let reply = try replies[0].get()
        return (reply, (try? replies[1].get().int(for: "WAIT")) ?? 0)
    }

    public func load(_ scripts: [RedisScript]) async throws {
        guard isCluster else { return try await loadScripts(scripts) }
        for script in scripts {
            for (_, reply) in try await sendToEveryMaster(RedisCommand("SCRIPT", "LOAD", script.source)) { _ = try reply.get() }
        }
    }

    /// Cluster mode: true when every master has every one of `scripts`.
    public func scriptsExist(_ scripts: [RedisScript]) async throws -> Bool {
        guard isCluster else { return try await scriptsCached(scripts) }
        var command = RedisCommand("SCRIPT", "EXISTS")
        command.append(contentsOf: scripts.map(\.sha1))
        for (_, reply) in try await sendToEveryMaster(command) where try !reply.get().array(for: command).allSatisfy({ $0 == .integer(1) })
        {
            return false
        }
        return true
    }
}

extension RedisCommand {
    /// `WAIT replicas timeout`: blocks until `replicas` replicas have every write sent before it on the
    /// connection, or `timeout` passes; replies with the number that have. Its deadline is `timeout`
    /// plus the usual command timeout.
    public static func wait(replicas: Int, timeout: Duration) -> RedisCommand {
        var command = RedisCommand("WAIT", replicas, Int(timeout.inMilliseconds))
        command.timeout = timeout + .seconds(5)
        return command
    }
}
