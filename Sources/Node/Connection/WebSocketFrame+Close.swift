import NIOCore
import NIOWebSocket

extension WebSocketFrame {
    /// A server's close frame: the code, then the reason (UTF-8, may be empty), cut to
    /// 123 bytes on a character boundary: a control frame carries 125 bytes at most.
    static func close(_ code: WebSocketErrorCode, reason: String = "", allocator: ByteBufferAllocator) -> WebSocketFrame {
        let reason = Self.closeReason(reason)
        var data = allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeSubstring(reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// The longest prefix of `reason` whose UTF-8 fits a close frame (123 bytes).
    static func closeReason(_ reason: String) -> Substring {
        var end = reason.startIndex
        var bytes = 0
        for index in reason.indices {
            let next = reason.index(after: index)
            bytes += reason.utf8.distance(from: index, to: next)
            guard bytes <= 123 else { break }
            end = next
        }
        return reason[..<end]
    }
}
