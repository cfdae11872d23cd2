import GRPCNIOTransportHTTP2
package import Logging
import NIOCertificateReloading

/// TLS of a gRPC server (the Gateway API, a backend): its certificate and key, re-read
/// when they change so that a renewed certificate (cert-manager) needs no restart, and,
/// for mutual TLS, the authorities whose certificates every client must present.
package struct GRPCServerTLS: Sendable {
    package var certFile: String
    package var keyFile: String
    /// Set: a client without a certificate signed by one of these is refused in the handshake.
    package var clientCAFile: String?
    package var reloadInterval: Duration

    package init(certFile: String, keyFile: String, clientCAFile: String? = nil, reloadInterval: Duration = .seconds(10)) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        self.reloadInterval = reloadInterval
    }

    /// Reads the files once, so that a missing, unreadable or mismatched file stops the
    /// process at start with its name; the reloader must run beside the server.
    package func load(logger: Logger) throws(GRPCTLSError) -> GRPCServerSecurity {
        let refresh = try CertificateFiles(certFile: certFile, keyFile: keyFile).makeReloader(interval: reloadInterval, logger: logger)
        let reloader = refresh.reloader
        do {
            if let clientCAFile {
                let roots = try CertificateFiles.trustRoots(clientCAFile)
                return GRPCServerSecurity(transport: try .mTLS(certificateReloader: reloader) { $0.trustRoots = roots }, refresh: refresh)
            }
            return GRPCServerSecurity(transport: try .tls(certificateReloader: reloader), refresh: refresh)
        } catch let error as GRPCTLSError {
            throw error
        } catch {
            throw GRPCTLSError(file: certFile, problem: "\(error)")
        }
    }
}
