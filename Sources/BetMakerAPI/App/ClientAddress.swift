import BetMaker
import BetMakerRuntime
import HTTPTypes
import Hummingbird
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The client a request's costs are counted against (rate limits, login lockouts; docs/decisions/0284): the peer,
/// or with `TRUSTED_PROXY_HEADER` the last address that header lists, the one the proxy in front of
/// the API added (earlier ones come from the client and prove nothing). An IPv6 client counts by its
/// /64, which one subscriber usually holds whole; an IPv4-mapped IPv6 address counts as the IPv4 one.
/// A header value that is not an address is ignored (the peer counts), so a misconfigured proxy puts
/// everybody in one bucket rather than letting clients pick their own.
enum ClientAddress {
    /// What the tests' router (no socket) and a connection without a peer count as.
    static let unknown = "unknown"

    static func of(_ request: Request, context: APIRequestContext, trustedHeader: HTTPField.Name?) -> String {
        if let trustedHeader, let value = request.headers[values: trustedHeader].last,
            let last = value.split(separator: ",").last, let address = normalized(last.trimmingSpaces)
        {
            return address
        }
        return context.channel.remoteAddress?.ipAddress.flatMap(normalized) ?? unknown
    }

    /// The address as it is counted, or nil when the text is not an IP address.
    static func normalized(_ text: String) -> String? {
        guard (2...45).contains(text.utf8.count), let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        guard case .v6 = address else { return address.ipAddress }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
