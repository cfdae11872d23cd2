import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Testing

/// Frames are put on the wire by the node itself, past NIO's encoder: byte for byte what
/// that encoder writes, at every length boundary of the header.
@Suite("Encoded frames")
struct EncodedFrameTests {
    private func nioEncoded(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) throws -> ByteBuffer {
        let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try encoder.writeOutbound(WebSocketFrame(fin: true, opcode: opcode, data: payload))
        var bytes = ByteBuffer()
        while var part = try encoder.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        return bytes
    }

    @Test("header and payload match NIO's encoder for lengths 0, 125, 126, 65,535 and 65,536", arguments: [0, 125, 126, 65_535, 65_536])
    func sameBytesAsNIO(length: Int) throws {
        for opcode in [WebSocketOpcode.text, .binary] {
            let payload = ByteBuffer(repeating: 0x61, count: length)
            let frame = EncodedFrame(opcode: opcode, data: payload)
            #expect(frame.wire == (try nioEncoded(opcode, payload)))
            #expect(frame.byteCount == length)
            #expect(frame.data == payload)
        }
    }
}
