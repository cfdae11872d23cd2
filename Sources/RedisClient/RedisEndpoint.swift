import Essentials

/// Where Redis listens: parsed from `redis://host:port` (or `host:port`).
public struct RedisEndpoint: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ url: String) {
        var rest = Substring(url)
        if rest.hasPrefix("redis://") { rest = rest.dropFirst("redis://".count) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let address = HostAndPort(rest, defaultPort: 6379) else { return nil }
        self.init(host: address.host, port: address.port)
    }

    public var description: String { "redis://\(host):\(port)" }
}
