/// `host:port` as every address setting spells it (Redis, backends, the gateway).
package struct HostAndPort: Hashable, Sendable {
    package let host: String
    package let port: Int

    /// Parses `host:port` (the last colon splits, so an IPv6 host keeps its colons); with
    /// `defaultPort`, a bare `host` too. Nil for an empty host or a port outside 1–65535.
    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init?(_ text: some StringProtocol, defaultPort: Int? = nil) {
        guard let colon = text.lastIndex(of: ":") else {
            guard let defaultPort, !text.isEmpty else { return nil }
            host = String(text)
            port = defaultPort
            return
        }
        guard colon != text.startIndex, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        host = String(text[..<colon])
        self.port = port
    }
}
