import GRPCNIOTransportHTTP2
package import Logging
import NIOCertificateReloading

/// TLS of a gRPC client (a node calling backends, a backend pushing through the Gateway
/// API): the authorities to trust and, for mutual TLS, the client's own certificate,
/// re-read when it changes.
package struct GRPCClientTLS: Sendable {
    /// Authorities the server's certificate must chain to; nil: the system's.
    package var caFile: String?
    /// The certificate (and its key) presented to a server that asks for one.
    package var certFile: String?
    package var keyFile: String?
    package var reloadInterval: Duration

    package init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, reloadInterval: Duration = .seconds(10)) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.reloadInterval = reloadInterval
    }

    /// The transport security for every client of a process (`GRPCClientSecurity`). A
    /// server's certificate is checked against the authorities, and against the host name
    /// when the endpoint names a host rather than an IP address.
    package func load(logger: Logger) throws(GRPCTLSError) -> GRPCClientSecurity {
        let roots = try caFile.map { path throws(GRPCTLSError) in try CertificateFiles.trustRoots(path) } ?? .systemDefault
        guard let certFile, let keyFile else {
            return GRPCClientSecurity(transport: .tls { $0.trustRoots = roots }, refresh: nil)
        }
        let refresh = try CertificateFiles(certFile: certFile, keyFile: keyFile).makeReloader(interval: reloadInterval, logger: logger)
        do {
            return GRPCClientSecurity(transport: try .mTLS(certificateReloader: refresh.reloader) { $0.trustRoots = roots }, refresh: refresh)
        } catch {
            throw GRPCTLSError(file: certFile, problem: "\(error)")
        }
    }
}
