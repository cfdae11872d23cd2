import Foundation
import NIOCore
import NIOPosix

/// A TCP proxy that adds `delay` to everything it forwards, both ways: added latency on one
/// link where the kernel has no `netem` (`switchboard bench delay-proxy`). Each accepted
/// connection gets its own connection to the target, opened before the first byte is read;
/// one that cannot be opened closes the accepted one, as a refused connection would.
package enum DelayProxy {
    /// Listens on `host:port` until the process ends; says where once listening.
    package static func run(host: String, port: Int, targetHost: String, targetPort: Int, delay: LinkDelay) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { inbound in
                connect(inbound, to: targetHost, port: targetPort, delay: delay)
            }
            .bind(host: host, port: port)
            .get()
        // On stderr, unbuffered: a script waiting for this line reads it as it is written.
        FileHandle.standardError.write(Data("delay proxy on \(host):\(server.localAddress?.port ?? port) to \(targetHost):\(targetPort)\n".utf8))
        try await server.closeFuture.get()
    }

    /// Joins `inbound` to a new connection to the target, on the same event loop. The
    /// accepted connection is registered, and read, only once this has succeeded (the
    /// bootstrap waits for its initializer); a failure closes it.
    private static func connect(_ inbound: any Channel, to host: String, port: Int, delay: LinkDelay) -> EventLoopFuture<Void> {
        ClientBootstrap(group: inbound.eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { outbound in
                outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(DelayHandler(peer: inbound, delay: delay))
                }
            }
            .connect(host: host, port: port)
            .flatMapThrowing { outbound in
                do {
                    try inbound.pipeline.syncOperations.addHandler(DelayHandler(peer: outbound, delay: delay))
                } catch {
                    outbound.close(promise: nil)
                    throw error
                }
            }
    }
}
