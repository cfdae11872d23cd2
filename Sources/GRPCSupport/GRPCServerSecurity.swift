package import GRPCNIOTransportHTTP2
package import NIOCertificateReloading

/// A gRPC server's transport security with its files loaded, and the reloader that keeps
/// its certificate current (run by `GRPCServerService`).
package struct GRPCServerSecurity: Sendable {
    package let transport: HTTP2ServerTransport.Posix.TransportSecurity
    package let reloader: TimedCertificateReloader?

    package static let plaintext = GRPCServerSecurity(transport: .plaintext, reloader: nil)
}
