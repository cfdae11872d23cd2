package import NIOCertificateReloading
import NIOPosix
import ServiceLifecycle

/// Keeps a certificate and key current: every `interval`, the reloader re-reads their files
/// on NIO's blocking-I/O pool (a file read never runs on an event loop or the cooperative
/// pool), until graceful shutdown. A pair that does not load is reported by the reloader
/// and the last good one stays in use. The one way this process renews certificates: the
/// client port's, the Gateway API's and backends' servers', and gRPC clients' own.
package struct CertificateRefresh: Service {
    package let reloader: TimedCertificateReloader
    package let interval: Duration

    package func run() async throws {
        let reloader = self.reloader
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            // A failure was logged by the reloader (`CertificateFiles`).
            try? await NIOThreadPool.singleton.runIfActive { try reloader.reload() }
        }
    }
}
