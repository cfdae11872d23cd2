import Essentials
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The operator port (`--admin-port`): `/metrics`, `/healthz`, `/readyz` over plain HTTP,
/// apart from the public client port so that only what may scrape the node (Prometheus,
/// the kubelet) is let reach it. Its connections get the client port's handshake deadline
/// (re-armed after each answer) and per-address cap, counted apart from the client port's,
/// so that nothing that reaches it can hold sockets open or crowd the probes out.
struct AdminListener: Service {
    let endpoints: HTTPEndpointHandler.Context
    let host: String
    let port: Int
    /// The client port's limits, counted apart.
    let maxPendingPerAddress: Int
    let handshakeTimeout: Duration
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let endpoints = self.endpoints
        let metrics = endpoints.metrics
        let pending = CappedCounts(capacityPerKey: maxPendingPerAddress)
        let timeout = TimeAmount(handshakeTimeout)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let address = channel.remoteAddress.flatMap { IPAddress($0)?.limitKey } ?? "unknown"
                    guard pending.admit(address) else {
                        metrics.hit(.pendingPerAddress)
                        channel.close(promise: nil)
                        return
                    }
                    let watch = HandshakeGuard(timeout: timeout, pending: pending, address: address) { metrics.hit(.handshakeTimeout) }
                    try channel.pipeline.syncOperations.addHandler(watch)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPEndpointHandler(endpoints, handshake: Handshake(), watch: watch, port: .admin))
                }
            }
            .bind(host: host, port: port)
            .get()
        logger.info("admin port listening", metadata: ["listen": "\(host):\(channel.localAddress?.port ?? 0)"])
        await onListening(channel.localAddress?.port ?? 0)
        await channel.serveUntilShutdown()
    }
}
