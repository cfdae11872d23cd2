#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOSSL
import Synchronization

/// The client port's TLS: the certificate and key from PEM files, re-read when either
/// file changes (cert-manager renews them in place). Each new connection takes the
/// current context; open connections keep the one they started with.
final class ServerTLS: Sendable {
    private let certFile: String
    private let keyFile: String
    private let logger: Logger
    private struct Loaded {
        var context: NIOSSLContext
        var stamp: [Date?]
    }
    private let loaded: Mutex<Loaded>

    init(certFile: String, keyFile: String, logger: Logger) throws(ConfigurationError) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.logger = logger
        let stamp = Self.stamp(certFile, keyFile)
        loaded = Mutex(Loaded(context: try Self.context(certFile: certFile, keyFile: keyFile), stamp: stamp))
    }

    var context: NIOSSLContext { loaded.withLock { $0.context } }

    /// Re-reads the files when their modification times changed; keeps the old context
    /// (and says so) when the new files do not make one — e.g. read between two writes.
    func reloadIfChanged() {
        let stamp = Self.stamp(certFile, keyFile)
        guard stamp != loaded.withLock({ $0.stamp }) else { return }
        do {
            let context = try Self.context(certFile: certFile, keyFile: keyFile)
            loaded.withLock { $0 = Loaded(context: context, stamp: stamp) }
            logger.info("TLS certificate reloaded", metadata: ["cert": "\(certFile)"])
        } catch {
            logger.warning("TLS files changed but do not load; keeping the previous certificate", metadata: ["error": "\(error)"])
        }
    }

    private static func stamp(_ files: String...) -> [Date?] {
        files.map { (try? FileManager.default.attributesOfItem(atPath: $0))?[.modificationDate] as? Date }
    }

    private static func context(certFile: String, keyFile: String) throws(ConfigurationError) -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12  // 1.0 and 1.1 are deprecated (RFC 8996)
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(key: "tls-cert-file", problem: "cannot load '\(certFile)' with '\(keyFile)': \(error)")
        }
    }
}
