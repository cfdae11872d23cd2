import NIOCore
import NIOWebSocket

/// RFC 6455's rules for what a client may send, checked on every frame as it comes off
/// the decoder (before fragments are joined, which drops the mask): frames must be
/// masked (§5.1), carry no RSV bit while no extension is negotiated (§5.2), use a defined
/// opcode (§5.2), and control frames must not be fragmented (§5.5). A frame that breaks
/// one is never passed on: `ClientChannelHandler` fails the connection with 1002.
/// It also counts the data frames a message arrives in, so that the rate limit charges a
/// message of 1,000 fragments as 1,000 frames, not as one.
final class FrameRules: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    /// Data frames (first, continuations, last) passed on since `takeDataFrames`.
    private var dataFrames = 0

    /// The data frames of the message just joined (at least 1), counting again from 0.
    func takeDataFrames() -> Int {
        defer { dataFrames = 0 }
        return max(1, dataFrames)
    }

    /// Why a frame was refused.
    struct Violation: Error, Equatable {
        let rule: String
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        if let violation = Self.check(frame) {
            context.fireErrorCaught(violation)
            return
        }
        if frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation { dataFrames += 1 }
        context.fireChannelRead(data)
    }

    static func check(_ frame: WebSocketFrame) -> Violation? {
        if frame.maskKey == nil { return Violation(rule: "client frames must be masked") }
        if frame.rsv1 || frame.rsv2 || frame.rsv3 { return Violation(rule: "no extension was negotiated: RSV bits must be 0") }
        switch frame.opcode {
        case .continuation, .text, .binary:
            return nil
        case .connectionClose, .ping, .pong:
            return frame.fin ? nil : Violation(rule: "control frames must not be fragmented")
        default:
            return Violation(rule: "reserved opcode")
        }
    }
}
