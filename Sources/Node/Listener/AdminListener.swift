import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The operator port (`--admin-port`): `/metrics`, `/healthz`, `/readyz` over plain HTTP,
/// apart from the public client port so that only what may scrape the node (Prometheus,
/// the kubelet) is let reach it.
struct AdminListener: Service {
    let node: GatewayNode
    let port: Int
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let node = self.node
        let host = node.configuration.adminHost ?? node.configuration.host
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPEndpointHandler(node: node, handshake: Handshake(), port: .admin))
                }
            }
            .bind(host: host, port: port)
            .get()
        node.logger.info("admin port listening", metadata: ["listen": "\(host):\(channel.localAddress?.port ?? 0)"])
        await onListening(channel.localAddress?.port ?? 0)
        await channel.serveUntilShutdown()
    }
}
