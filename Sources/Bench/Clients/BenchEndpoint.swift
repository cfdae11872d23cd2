import NIOCore

/// A node's WebSocket URL taken apart once: the generator connects by address, not by
/// parsing a URL per connection.
package struct BenchEndpoint: Sendable, Hashable, CustomStringConvertible {
    package let host: String
    package let port: Int
    package let path: String

    package init(url: String) throws {
        guard url.hasPrefix("ws://") else { throw BenchError("\(url): only ws:// URLs are supported") }
        let rest = url.dropFirst("ws://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else {
            throw BenchError("\(url): the URL needs a port, as in ws://127.0.0.1:8080/ws")
        }
        host = String(authority[..<colon])
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }

    package var description: String { "ws://\(host):\(port)\(path)" }

    /// The same node's HTTP base, for /healthz and /metrics.
    var httpBase: String { "http://\(host):\(port)" }
}
