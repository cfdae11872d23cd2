import NIOCore
import NIOWebSocket

/// Notes the reason when NIO's WebSocket decoder rejects a frame (too large, bad
/// opcode...). NIO answers such frames with a close frame and drops the socket by
/// itself, so the session would otherwise see only a quiet end of input.
final class ProtocolErrorObserver: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = WebSocketFrame

    private let connection: ClientConnection

    init(connection: ClientConnection) {
        self.connection = connection
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            connection.markClosing(error == .invalidFrameLength ? .tooLarge : .protocolError)
        }
        context.fireErrorCaught(error)
    }

    /// Installs the observer right behind NIO's protocol error handler.
    static func install(for connection: ClientConnection, on channel: any Channel) async {
        try? await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let errorHandler = try pipeline.handler(type: WebSocketProtocolErrorHandler.self)
            try pipeline.addHandler(ProtocolErrorObserver(connection: connection), position: .after(errorHandler))
        }.get()
    }
}
