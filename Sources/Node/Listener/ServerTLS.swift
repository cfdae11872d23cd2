import Essentials
import GRPCSupport
import Logging
import NIOCertificateReloading
import NIOSSL

/// The client port's TLS: the certificate and key from PEM files, kept current by
/// `refresh` (cert-manager renews them in place) the way the gRPC servers' are. Each new
/// connection's handshake takes the current pair; open connections keep the one they
/// started with.
struct ServerTLS: Sendable {
    let context: NIOSSLContext
    /// Re-reads the files every `tls-reload-interval`; run beside the listener.
    let refresh: CertificateRefresh

    init(certFile: String, keyFile: String, reloadInterval: Duration, logger: Logger) throws(ConfigurationError) {
        do {
            refresh = try CertificateFiles(certFile: certFile, keyFile: keyFile).makeReloader(interval: reloadInterval, logger: logger)
            var configuration = try TLSConfiguration.makeServerConfiguration(certificateReloader: refresh.reloader)
            configuration.minimumTLSVersion = .tlsv12  // 1.0 and 1.1 are deprecated (RFC 8996)
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(key: "tls-cert-file", problem: "cannot load '\(certFile)' with '\(keyFile)': \(error)")
        }
    }
}
