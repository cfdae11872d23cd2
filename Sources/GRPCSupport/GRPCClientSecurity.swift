package import GRPCNIOTransportHTTP2

/// The transport security of a process's gRPC clients with their files loaded, and the
/// refresh of the client certificate (for mutual TLS) that whoever owns the clients runs.
package struct GRPCClientSecurity: Sendable {
    package let transport: HTTP2ClientTransport.Posix.TransportSecurity
    package let refresh: CertificateRefresh?

    package static let plaintext = GRPCClientSecurity(transport: .plaintext, refresh: nil)
}

extension GRPCClientSecurity {
    /// Re-reads the client certificate until graceful shutdown; returns at once without one.
    package func keepCertificateCurrent() async {
        try? await refresh?.run()
    }
}
