import GRPCNIOTransportHTTP2
package import Logging
import NIOCertificateReloading
import NIOSSL

/// A PEM certificate chain and its private key on disk, as TLS settings name them.
package struct CertificateFiles {
    package let certFile: String
    package let keyFile: String

    package init(certFile: String, keyFile: String) {
        self.certFile = certFile
        self.keyFile = keyFile
    }

    /// A reloader already holding the files' certificate and key (or the reason they do
    /// not load), and what keeps it current (run it beside whatever serves with it); a later
    /// change that does not load keeps the last good pair, with a warning.
    package func makeReloader(interval: Duration, logger: Logger) throws(GRPCTLSError) -> CertificateRefresh {
        let configuration = TimedCertificateReloader.Configuration(
            refreshInterval: interval,
            certificateSource: .init(location: .file(path: certFile), format: .pem),
            privateKeySource: .init(location: .file(path: keyFile), format: .pem)
        ) { [certFile] configuration in
            configuration.onCertificateLoadFailed = { failure in
                logger.warning("TLS certificate and key did not load; a running server or client keeps its last good pair", metadata: [
                    "certificate": "\(certFile)", "error": "\(failure.error)",
                ])
            }
        }
        do {
            return CertificateRefresh(reloader: try TimedCertificateReloader.makeReloaderValidatingSources(configuration: configuration), interval: interval)
        } catch {
            throw GRPCTLSError(file: "\(certFile), \(keyFile)", problem: "\(error)")
        }
    }

    /// The authorities of a PEM file, parsed now so that a bad file fails at start.
    static func trustRoots(_ path: String) throws(GRPCTLSError) -> TLSConfig.TrustRootsSource {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw GRPCTLSError(file: path, problem: "holds no PEM certificate") }
        } catch let error as GRPCTLSError {
            throw error
        } catch {
            throw GRPCTLSError(file: path, problem: "is not a readable PEM certificate file (\(error))")
        }
        return .certificates([.file(path: path, format: .pem)])
    }
}
