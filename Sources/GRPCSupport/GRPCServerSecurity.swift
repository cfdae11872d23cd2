package import GRPCNIOTransportHTTP2

/// A gRPC server's transport security with its files loaded, and what keeps its
/// certificate current (run by `GRPCServerService`).
package struct GRPCServerSecurity: Sendable {
    package let transport: HTTP2ServerTransport.Posix.TransportSecurity
    package let refresh: CertificateRefresh?

    package static let plaintext = GRPCServerSecurity(transport: .plaintext, refresh: nil)
}
