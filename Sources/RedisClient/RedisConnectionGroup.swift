package import Logging
package import NIOCore
import NIOPosix

/// One command connection per event loop, so a command issued on a loop — a client's
/// send, on its connection's loop — is written from that loop without a thread hop.
/// Work that is not on a loop (presence changes, the lease) uses `primary`.
package final class RedisConnectionGroup: Sendable {
    package let endpoint: RedisEndpoint
    private let connections: [RedisConnection]

    package init(endpoint: RedisEndpoint, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.endpoint = endpoint
        connections = group.makeIterator().map { RedisConnection(endpoint: endpoint, eventLoop: $0, logger: logger) }
    }

    /// The connection that the lease and presence use; its `generation` says when Redis
    /// must be told this node's presence again.
    package var primary: RedisConnection { connections[0] }

    /// The connection owned by `loop`, else the primary.
    package func connection(on loop: any EventLoop) -> RedisConnection {
        connections.first { $0.eventLoop === loop } ?? primary
    }

    /// The connection of the loop the caller runs on, else the primary.
    package var current: RedisConnection {
        MultiThreadedEventLoopGroup.currentEventLoop.map { connection(on: $0) } ?? primary
    }

    package func close() {
        connections.forEach { $0.close() }
    }
}
