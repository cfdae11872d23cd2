import Essentials

/// Where Redis listens: parsed from `redis://host:port` (or `host:port`).
package struct RedisEndpoint: Hashable, Sendable, CustomStringConvertible {
    package let host: String
    package let port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init?(_ url: String) {
        var rest = Substring(url)
        if rest.hasPrefix("redis://") { rest = rest.dropFirst("redis://".count) }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        guard let address = HostAndPort(rest, defaultPort: 6379) else { return nil }
        self.init(host: address.host, port: address.port)
    }

    package var description: String { "redis://\(host):\(port)" }
}
