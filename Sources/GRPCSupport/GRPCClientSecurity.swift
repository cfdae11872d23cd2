package import GRPCNIOTransportHTTP2
package import NIOCertificateReloading

/// The transport security of a process's gRPC clients with their files loaded, and the
/// reloader of the client certificate (for mutual TLS) that whoever owns the clients runs.
package struct GRPCClientSecurity: Sendable {
    package let transport: HTTP2ClientTransport.Posix.TransportSecurity
    package let reloader: TimedCertificateReloader?

    package static let plaintext = GRPCClientSecurity(transport: .plaintext, reloader: nil)
}

extension GRPCClientSecurity {
    /// Re-reads the client certificate until graceful shutdown; returns at once without one.
    package func keepCertificateCurrent() async {
        try? await reloader?.run()
    }
}
