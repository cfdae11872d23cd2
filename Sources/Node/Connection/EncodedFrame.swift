import NIOCore
import NIOWebSocket

/// A server frame already encoded for one wire format, ready for any number of sockets.
struct EncodedFrame: Sendable {
    let opcode: WebSocketOpcode
    let data: ByteBuffer

    var byteCount: Int { data.readableBytes }
}
