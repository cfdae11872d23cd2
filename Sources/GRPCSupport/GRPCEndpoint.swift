import Essentials
import GRPCCore
import GRPCNIOTransportHTTP2

/// Where a gRPC service listens: `host:port`.
package struct GRPCEndpoint: Hashable, Sendable, CustomStringConvertible {
    package let host: String
    package let port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; nil when either part is missing or the port is not a number.
    package init?(_ text: String) {
        guard let address = HostAndPort(text) else { return nil }
        self.init(host: address.host, port: address.port)
    }

    package var description: String { "\(host):\(port)" }

    /// An HTTP/2 client (plaintext unless `security` says TLS) that reconnects quickly when
    /// the service comes back. An IP address is dialled as such, so that TLS sends no
    /// server name and checks the certificate's chain only; a host name is also checked
    /// against the certificate.
    package func makeClient(security: GRPCClientSecurity = .plaintext) throws -> GRPCHTTP2Client {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        let transport = isIPv4
            ? try HTTP2ClientTransport.Posix(target: .ipv4(host: host, port: port), transportSecurity: security.transport, config: config)
            : try HTTP2ClientTransport.Posix(target: .dns(host: host, port: port), transportSecurity: security.transport, config: config)
        return GRPCHTTP2Client(transport: transport)
    }
}
