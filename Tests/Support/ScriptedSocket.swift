import NIOCore
import NIOWebSocket
import Synchronization

/// One client connection to a `ScriptedNode`: the test reads what the client sent and
/// writes what the node would.
package final class ScriptedSocket: Sendable {
    package enum Message: Sendable, Equatable {
        case text(String)
        case binary([UInt8])
    }

    private struct Inbox {
        var messages: [Message] = []
        var ended = false
    }

    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let inbox = Mutex(Inbox())

    init(outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) {
        self.outbound = outbound
    }

    func received(_ message: Message) {
        inbox.withLock { $0.messages.append(message) }
    }

    func ended() {
        inbox.withLock { $0.ended = true }
    }

    package func send(text: String) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    package func send(binary bytes: [UInt8]) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)))
    }

    /// The client's next data frame; throws if none comes within `timeout` or the socket ends.
    package func receive(timeout: Duration = .seconds(30)) async throws -> Message {
        var next: Message?
        try await waitUntil(timeout: timeout) {
            try self.inbox.withLock { inbox in
                if !inbox.messages.isEmpty {
                    next = inbox.messages.removeFirst()
                    return true
                }
                if inbox.ended { throw TestFailure("the client's socket ended") }
                return false
            }
        }
        return next!
    }
}
