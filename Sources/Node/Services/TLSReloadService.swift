import NIOPosix
import ServiceLifecycle

/// Checks the client port's certificate files now and then, on NIO's blocking-I/O thread
/// pool (file reads never run on an event loop or the concurrency pool).
struct TLSReloadService: Service {
    let tls: ServerTLS
    let interval: Duration

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            let tls = self.tls
            try? await NIOThreadPool.singleton.runIfActive { tls.reloadIfChanged() }
        }
    }
}
