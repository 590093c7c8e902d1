/// The cluster's shards as one node sees them (`CLUSTER SHARDS`, Redis 7): each shard's slot ranges,
/// its master and its replicas.
struct ClusterShards: Sendable, Equatable {
    struct Shard: Sendable, Equatable {
        var slots: [ClosedRange<Int>]
        var master: RedisEndpoint
        var replicas: [RedisEndpoint]
    }

    var shards: [Shard]

    /// Slots some master serves; 16384 when the map is complete.
    var coveredSlots: Int { shards.reduce(0) { $0 + $1.slots.reduce(0) { $0 + $1.count } } }

    var masters: [RedisEndpoint] { shards.map(\.master) }

    init(shards: [Shard]) {
        self.shards = shards
    }

    /// Reads a `CLUSTER SHARDS` reply. Shards without slots (a failed master whose replica took over)
    /// or without a master are left out. A node's address is its `endpoint` (its announced host name
    /// or IP), else its `ip`, else the host of the node that answered.
    init(reply: RESPValue, answeringHost: String) throws(RedisError) {
        let command = "CLUSTER SHARDS"
        var shards: [Shard] = []
        for shardValue in try reply.array(for: command) {
            let shard = try Self.fields(of: shardValue)
            var ranges: [ClosedRange<Int>] = []
            let bounds = try shard["slots"]?.array(for: command) ?? []
            guard bounds.count % 2 == 0 else { throw shardValue.unexpected(command) }
            var index = 0
            while index < bounds.count {
                let start = try bounds[index].int(for: command)
                let end = try bounds[index + 1].int(for: command)
                guard 0 <= start, start <= end, end < HashSlot.count else { throw shardValue.unexpected(command) }
                ranges.append(start...end)
                index += 2
            }
            var master: RedisEndpoint?
            var replicas: [RedisEndpoint] = []
            for nodeValue in try shard["nodes"]?.array(for: command) ?? [] {
                let node = try Self.fields(of: nodeValue)
                guard let port = node["port"].flatMap({ $0.string }).flatMap({ Int($0) }), port > 0 else { continue }
                let host = [node["endpoint"]?.string, node["ip"]?.string].lazy.compactMap { $0 }.first { !$0.isEmpty && $0 != "?" }
                let endpoint = RedisEndpoint(host: host ?? answeringHost, port: port)
                if node["role"]?.string == "master" {
                    master = endpoint
                } else {
                    replicas.append(endpoint)
                }
            }
            guard let master, !ranges.isEmpty else { continue }
            shards.append(Shard(slots: ranges, master: master, replicas: replicas))
        }
        self.init(shards: shards)
    }

    /// A flat `[name, value, name, value, ...]` array as a dictionary of values.
    private static func fields(of value: RESPValue) throws(RedisError) -> [String: RESPValue] {
        let values = try value.array(for: "CLUSTER SHARDS")
        guard values.count % 2 == 0 else { throw value.unexpected("CLUSTER SHARDS") }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index < values.count {
            fields[try values[index].string(for: "CLUSTER SHARDS")] = values[index + 1]
            index += 2
        }
        return fields
    }

    /// For logs: `127.0.0.1:7001 0-5460, 127.0.0.1:7002 5461-10922 ...`.
    var summary: String {
        shards.sorted { ($0.slots.first?.lowerBound ?? 0) < ($1.slots.first?.lowerBound ?? 0) }
            .map { shard in "\(shard.master) \(shard.slots.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ","))" }
            .joined(separator: ", ")
    }
}
