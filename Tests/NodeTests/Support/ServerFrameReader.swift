import NIOCore
import NIOEmbedded
import NIOWebSocket

/// At the head of a test pipeline that holds NIO's frame encoder as the upgraded one
/// does: turns the bytes the node writes — whole server frames, some in parts — back
/// into `WebSocketFrame`s for the test to read, with NIO's own frame decoder.
final class ServerFrameReader: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private let decoder = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 24)))
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let promise { promises.append(promise) }
        do {
            try decoder.writeInbound(unwrapOutboundIn(data))
            while let frame = try decoder.readInbound(as: WebSocketFrame.self) {
                // The parts' promises complete with the frame they made up.
                let waiting = promises
                promises = []
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { result in waiting.forEach { $0.completeWith(result) } }
                context.write(wrapOutboundOut(frame), promise: written)
            }
        } catch {
            promises.forEach { $0.fail(error) }
            promises = []
            context.fireErrorCaught(error)
        }
    }
}
