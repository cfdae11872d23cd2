import NIOCore
import NIOWebSocket

/// At the head of a test pipeline that holds NIO's frame encoder as the upgraded one
/// does: turns the bytes the node writes — whole server frames, some in parts — back
/// into `WebSocketFrame`s for the test to read.
final class ServerFrameReader: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private var pending = ByteBuffer()
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        pending.writeBuffer(&bytes)
        if let promise { promises.append(promise) }
        while let frame = nextFrame() {
            // The parts' promises complete with the frame they made up.
            let waiting = promises
            promises = []
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { result in waiting.forEach { $0.completeWith(result) } }
            context.write(wrapOutboundOut(frame), promise: written)
        }
    }

    private func nextFrame() -> WebSocketFrame? {
        var reader = pending
        guard let first = reader.readInteger(as: UInt8.self), let second = reader.readInteger(as: UInt8.self) else { return nil }
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let long = reader.readInteger(as: UInt16.self) else { return nil }
            length = Int(long)
        } else if length == 127 {
            guard let long = reader.readInteger(as: UInt64.self) else { return nil }
            length = Int(long)
        }
        guard second & 0x80 == 0, let payload = reader.readSlice(length: length),
              let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)
        else { return nil }
        pending = reader
        pending.discardReadBytes()
        return WebSocketFrame(fin: first & 0x80 != 0, opcode: opcode, data: payload)
    }
}
