/// What the cluster router knows, behind its lock: the slot table, the nodes with their pools, and
/// the callers waiting for the first map.
struct RouterState {
    /// In `owners`: no master serves the slot.
    static let unassigned = UInt16.max

    struct Node {
        let endpoint: RedisEndpoint
        let pool: ConnectionPool
        /// Serves slots in the map; false for a node known only from an `ASK`.
        var isMaster = false
    }

    enum Phase { case notStarted, running, shutDown }

    enum Decision<Value> {
        case use(Value)
        case wait
        case fail(RedisError)
    }

    var phase = Phase.notStarted
    /// For each slot the index in `nodes` of its master; empty until the first map has come.
    var owners: [UInt16] = []
    var nodes: [Node] = []
    /// The replicas of the last map, asked for the map when no master answers.
    var replicas: [RedisEndpoint] = []
    /// Why the last refresh failed, while there is no map: callers then fail at once.
    var lastFailure: String?
    var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    private var nextMaster = 0
    private var nextAsked = 0

    func index(of endpoint: RedisEndpoint) -> Int? {
        nodes.firstIndex { $0.endpoint == endpoint }
    }

    var masters: [RedisEndpoint] { nodes.filter(\.isMaster).map(\.endpoint) }

    /// The pool for `slot`, or of any master (in turn) when `slot` is nil.
    mutating func pool(forSlot slot: Int?) -> Decision<ConnectionPool> {
        if phase == .shutDown { return .fail(.connectionUnavailable("client shut down")) }
        if owners.isEmpty {
            // Before run() has started, and while the first map is on its way, callers wait for it.
            if phase == .running, let lastFailure { return .fail(.connectionUnavailable(lastFailure)) }
            return .wait
        }
        if let slot {
            let owner = owners[slot]
            guard owner != Self.unassigned else { return .fail(.connectionUnavailable("no Redis cluster master serves slot \(slot)")) }
            return .use(nodes[Int(owner)].pool)
        }
        for offset in 0..<nodes.count {
            let index = (nextMaster + offset) % nodes.count
            if nodes[index].isMaster {
                nextMaster = index + 1
                return .use(nodes[index].pool)
            }
        }
        return .fail(.connectionUnavailable("the Redis cluster map has no master"))
    }

    /// Whom to ask for the map: the masters (starting with a different one each time), their
    /// replicas, then the seeds.
    mutating func refreshCandidates(seeds: [RedisEndpoint]) -> [RedisEndpoint] {
        let masters = self.masters
        var candidates: [RedisEndpoint] = []
        if !masters.isEmpty {
            nextAsked += 1
            for offset in 0..<masters.count { candidates.append(masters[(nextAsked + offset) % masters.count]) }
        }
        for endpoint in replicas + seeds where !candidates.contains(endpoint) { candidates.append(endpoint) }
        return candidates
    }

    struct Applied {
        var started: [ConnectionPool] = []
        var closed: [ConnectionPool] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// Slots whose master differs from before (all covered slots for the first map).
        var slotsMoved = 0
    }

    /// Makes `shards` the map: keeps the pools of masters still there, opens pools for new masters,
    /// closes those of nodes that no longer serve slots.
    mutating func apply(_ shards: ClusterShards, makePool: (RedisEndpoint) -> ConnectionPool) -> Applied {
        var applied = Applied()
        var newNodes: [Node] = []
        for master in shards.masters where !newNodes.contains(where: { $0.endpoint == master }) {
            if let index = index(of: master) {
                newNodes.append(Node(endpoint: master, pool: nodes[index].pool, isMaster: true))
            } else {
                let pool = makePool(master)
                applied.started.append(pool)
                newNodes.append(Node(endpoint: master, pool: pool, isMaster: true))
            }
        }
        for node in nodes where !newNodes.contains(where: { $0.endpoint == node.endpoint }) {
            applied.closed.append(node.pool)
        }
        var newOwners = [UInt16](repeating: Self.unassigned, count: HashSlot.count)
        for shard in shards.shards {
            guard let owner = newNodes.firstIndex(where: { $0.endpoint == shard.master }) else { continue }
            for range in shard.slots {
                for slot in range { newOwners[slot] = UInt16(owner) }
            }
        }
        // Old node index to the same node's new index, to count the slots that changed hands.
        let renumbered: [UInt16] = nodes.map { node in
            newNodes.firstIndex { $0.endpoint == node.endpoint }.map(UInt16.init) ?? Self.unassigned
        }
        for slot in 0..<HashSlot.count where newOwners[slot] != Self.unassigned {
            let old = owners.isEmpty ? Self.unassigned : owners[slot]
            if old == Self.unassigned || renumbered[Int(old)] != newOwners[slot] { applied.slotsMoved += 1 }
        }
        owners = newOwners
        nodes = newNodes
        replicas = shards.shards.flatMap(\.replicas)
        lastFailure = nil
        applied.waiters = Array(waiters.values)
        waiters = [:]
        return applied
    }
}
