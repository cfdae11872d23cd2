import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A bare SwiftNIO WebSocket server — upgrade, a welcome frame, pongs, nothing else,
/// every connection a channel handler and no task — to measure against: what an idle
/// connection costs when nothing but NIO holds it (`bench idle` against it).
package enum BaselineServer {
    /// Serves on `port` until the process ends.
    package static func run(host: String = "127.0.0.1", port: Int) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(BaselineSession())
                        }
                    }
                )
                return channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: host, port: port)
            .get()
        print("baseline WebSocket server on ws://\(host):\(channel.localAddress?.port ?? port)/ws")
        try await channel.closeFuture.get()
    }
}

/// Welcomes the client, answers pings, closes on close.
private final class BaselineSession: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func handlerAdded(context: ChannelHandlerContext) {
        let welcome = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: #"{"welcome":{}}"#))
        context.writeAndFlush(wrapOutboundOut(welcome), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)))
                .whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }
}
