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

    /// Installs the observer at the end of the pipeline, which every error reaches.
    static func install(for connection: ClientConnection, on channel: any Channel) async {
        try? await channel.pipeline.addHandler(ProtocolErrorObserver(connection: connection), position: .last).get()
    }
}
