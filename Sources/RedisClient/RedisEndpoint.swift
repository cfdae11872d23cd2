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
        guard let colon = rest.lastIndex(of: ":") else {
            guard !rest.isEmpty else { return nil }
            self.init(host: String(rest), port: 6379)
            return
        }
        guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port), colon != rest.startIndex else { return nil }
        self.init(host: String(rest[..<colon]), port: port)
    }

    public var description: String { "redis://\(host):\(port)" }
}
