import CoreMetrics

/// Where Redis is and how the client behaves towards it.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    /// Multiplexed connections in the shared pool. Redis pipelines, so a few carry a server's load.
    public var poolSize: Int = 2
    /// Deadline for a reply to an ordinary command.
    public var commandTimeout: Duration = .seconds(5)
    /// Deadline for establishing a connection, including AUTH and SELECT.
    public var connectTimeout: Duration = .seconds(2)
    /// Reconnection delays grow from `initial` to `maximum`, doubling, with jitter.
    public var reconnectBackoff: Backoff.Policy = .init(initial: .milliseconds(50), maximum: .seconds(5))
    /// How long a graceful shutdown waits for replies still in flight.
    public var shutdownGracePeriod: Duration = .seconds(5)
    /// Sent as `CLIENT SETNAME` so connections are recognisable in `CLIENT LIST`.
    public var clientName: String?
    /// Set: cluster mode. `host`, `port` and `database` are then unused (a cluster has database 0
    /// only); the credentials and every deadline above hold for each node, `poolSize` per master.
    public var cluster: RedisClusterOptions?
    /// Set: every script that may write is followed by `WAIT replicas timeout` on its connection, so
    /// its reply comes once that many replicas have the write (or the timeout passed). Replication stays
    /// asynchronous: this narrows the writes a failover can lose to those whose WAIT timed out, it does
    /// not close it (docs/decisions/0030).
    public var replicaAcknowledgement: ReplicaAcknowledgement?

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`. Credentials may be percent-encoded.
    ///
    /// - Throws: `RedisConfigurationError` saying which part is wrong. Its text never quotes the URL or
    ///   a part of it: a malformed URL can put the password anywhere (`redis://:secret` reads as host
    ///   and port), and these errors end up in logs.
    public init(url: String) throws(RedisConfigurationError) {
        guard url.hasPrefix("redis://") else {
            throw .init("REDIS_URL must start with redis://")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = try Self.percentDecoded(credentials[..<colon])
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                password = try Self.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else { throw .init("REDIS_URL has an invalid database number (after the /)") }
                database = number
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw .init("REDIS_URL has an invalid port (a number from 1 to 65535 after the host)")
            }
            port = number
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .init("REDIS_URL has no host") }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    private static func percentDecoded(_ text: Substring) throws(RedisConfigurationError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .init("invalid percent-encoding in REDIS_URL credentials")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL without the password, for logs.
    public var redactedURL: String {
        var credentials = ""
        if username != nil || password != nil {
            credentials = "\(username ?? "")\(password == nil ? "" : ":***")@"
        }
        return "redis://\(credentials)\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }
}

public struct RedisConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Exponential backoff with full jitter, as used for reconnecting.
public struct Backoff: Sendable {
    public struct Policy: Sendable, Equatable {
        public var initial: Duration
        public var maximum: Duration
        public init(initial: Duration, maximum: Duration) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    private let policy: Policy
    private var attempt = 0

    public init(_ policy: Policy) { self.policy = policy }

    /// The delay before the next attempt: random in [ceiling/2, ceiling], the ceiling doubling each time.
    public mutating func next() -> Duration {
        let ceiling = min(policy.initial * (1 << min(attempt, 20)), policy.maximum)
        attempt += 1
        return ceiling * Double.random(in: 0.5...1.0)
    }

    public mutating func reset() { attempt = 0 }
}

/// How many replicas must have a script's writes before its reply is handed back, and for how long
/// to wait for them (`RedisConfiguration.replicaAcknowledgement`).
public struct ReplicaAcknowledgement: Sendable, Equatable {
    public var replicas: Int
    public var timeout: Duration

    public init(replicas: Int, timeout: Duration) {
        self.replicas = replicas
        self.timeout = timeout
    }

    /// Script calls whose `WAIT` saw fewer replicas than asked for within the timeout.
    static let missing = Counter(label: "redis_replica_acknowledgements_missing_total")
}
