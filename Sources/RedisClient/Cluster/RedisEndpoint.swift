/// Where one Redis node listens: a host (a name, an IPv4 or an IPv6 address) and a port.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`.
    ///
    /// - Throws: `RedisConfigurationError` saying what is wrong (a missing or out-of-range port, no host).
    public init(parsing text: some StringProtocol) throws(RedisConfigurationError) {
        let text = String(text)
        guard let colon = text.lastIndex(of: ":") else {
            throw .init("a Redis node must be host:port, not \"\(text)\"")
        }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw .init("a Redis node's port must be a number from 1 to 65535, in \"\(text)\"")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .init("a Redis node needs a host, in \"\(text)\"") }
        self.init(host: host, port: port)
    }

    /// Parses a comma-separated list such as `10.0.0.1:6379,10.0.0.2:6379` (spaces around entries are
    /// ignored). At least one entry; duplicates are dropped.
    public static func list(_ text: String) throws(RedisConfigurationError) -> [RedisEndpoint] {
        var endpoints: [RedisEndpoint] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
            let endpoint = try RedisEndpoint(parsing: String(trimmed))
            if !endpoints.contains(endpoint) { endpoints.append(endpoint) }
        }
        guard !endpoints.isEmpty else { throw .init("the list of Redis nodes is empty") }
        return endpoints
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Cluster mode: the client learns the slot map from the seeds and sends each command to the master
/// that owns its keys. See docs/decisions/0002-redis-cluster-client.md.
public struct RedisClusterOptions: Sendable, Equatable {
    /// Nodes asked for the map at start; later the map's own nodes are asked first. Any one is enough.
    public var seeds: [RedisEndpoint]
    /// `MOVED` and `ASK` redirects one command follows before it fails with `RedisError.redirected`.
    public var maximumRedirects = 5
    /// How long a command that did not run (`TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`, `BUSY`,
    /// a node that refuses connections) keeps being retried, from its first attempt. Past it the last
    /// error is reported. A failover with `cluster-node-timeout` T takes about T + 2 s.
    public var retryTimeout: Duration = .seconds(5)
    /// Delays between those retries: from `initial` doubling to `maximum`, with jitter.
    public var retryBackoff: Backoff.Policy = .init(initial: .milliseconds(20), maximum: .milliseconds(500))
    /// The map is asked for again this often even when nothing points to a change.
    public var refreshInterval: Duration = .seconds(10)
    /// Refreshes asked for by `MOVED`, failed nodes and the timer are at most this frequent.
    public var minimumRefreshInterval: Duration = .seconds(1)

    public init(seeds: [RedisEndpoint]) {
        self.seeds = seeds
    }
}
