import NIOCore
import NIOWebSocket

/// A server frame already encoded for one wire format, ready for any number of sockets:
/// header and payload as they go on the wire (RFC 6455 §5.2; a server's frames are not
/// masked). A push to many connections is framed once, and each socket's write is that one
/// buffer, written past NIO's frame encoder (which would add a header buffer per write).
struct EncodedFrame: Sendable {
    /// The whole frame (its first byte says the opcode).
    let wire: ByteBuffer
    /// The payload's length (what the queue limits count).
    let byteCount: Int

    init(opcode: WebSocketOpcode, data: ByteBuffer) {
        let length = data.readableBytes
        var wire = ByteBuffer()
        wire.reserveCapacity(length + 10)
        wire.writeInteger(0x80 | UInt8(webSocketOpcode: opcode))  // FIN: never fragmented
        switch length {
        case ..<126:
            wire.writeInteger(UInt8(length))
        case ...Int(UInt16.max):
            wire.writeInteger(UInt8(126))
            wire.writeInteger(UInt16(length))
        default:
            wire.writeInteger(UInt8(127))
            wire.writeInteger(UInt64(length))
        }
        wire.writeImmutableBuffer(data)
        self.wire = wire
        byteCount = length
    }

    /// Read back from the header rather than stored beside it.
    var opcode: WebSocketOpcode {
        wire.getInteger(at: wire.readerIndex, as: UInt8.self).flatMap { WebSocketOpcode(encodedWebSocketOpcode: $0 & 0x0F) } ?? .continuation
    }

    /// The payload.
    var data: ByteBuffer {
        wire.getSlice(at: wire.readerIndex + wire.readableBytes - byteCount, length: byteCount) ?? ByteBuffer()
    }
}
