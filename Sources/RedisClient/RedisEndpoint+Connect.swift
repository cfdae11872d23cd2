import Essentials
import NIOCore
import NIOPosix
import NIOSSL

extension RedisEndpoint {
    /// A new socket to this endpoint's primary (behind sentinels: the one they name now),
    /// on `eventLoop`, with TLS first when `rediss://` and `handler` at the end — what
    /// every command and subscriber connection starts with.
    func connect(
        on eventLoop: any EventLoop, tls: Result<NIOSSLContext?, any Error>, timeout: TimeAmount,
        handler: @escaping @Sendable () -> RESPHandler
    ) -> EventLoopFuture<any Channel> {
        primaryAddress(on: eventLoop, tls: try? tls.get()).flatMap { address in
            let namer = sentinels != nil ? "a sentinel" : namedBy
            if let problem = credentialProblem(sendingTo: address.host, namedBy: namer) {
                return eventLoop.makeFailedFuture(RedisError.unavailable(problem))
            }
            return ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let context = try tls.get() {
                            try channel.pipeline.syncOperations.addHandler(try self.tlsHandler(context, host: address.host))
                        }
                        try channel.pipeline.syncOperations.addHandler(handler())
                    }
                }
                .connect(host: address.host, port: address.port)
        }
        .hop(to: eventLoop)
    }
}
