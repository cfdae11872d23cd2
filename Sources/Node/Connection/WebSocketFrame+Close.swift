import NIOCore
import NIOWebSocket

extension WebSocketFrame {
    /// A server's close frame: the code, then the reason (UTF-8, may be empty).
    static func close(_ code: WebSocketErrorCode, reason: String = "", allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}
