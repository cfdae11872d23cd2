import SwitchboardProtocol
import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Testing
import NodeTestSupport
import TestSupport

/// RFC 6455's rules for clients, on `NIOAsyncTestingChannel` with the pipeline the upgrade
/// builds: what a client may not send fails the connection with 1002 (or 1007), and a
/// client that pings without reading gets one pong, not one per ping.
@Suite("RFC 6455 rules for clients")
struct ProtocolRulesTests {
    private func open(_ services: SessionServices) async throws -> (NIOAsyncTestingChannel, ClientConnection) {
        try await openTestConnection(services)
    }

    private func frameBytes(_ frame: WebSocketFrame) throws -> ByteBuffer {
        let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try encoder.writeOutbound(frame)
        var bytes = ByteBuffer()
        while var part = try encoder.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        return bytes
    }

    private let mask = WebSocketMaskingKey([7, 1, 9, 3])

    /// Sends `bytes` and expects the node to close with `code`, then drop the socket.
    private func expectFailure(_ bytes: ByteBuffer, code: WebSocketErrorCode, reason: CloseReason) async throws {
        let services = try await makeTestServices()
        let (channel, connection) = try await open(services)
        try await channel.writeInbound(bytes)
        var close = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(close.opcode == .connectionClose)
        #expect(close.data.readWebSocketErrorCode() == code)
        try await channel.closeFuture.get()
        #expect(connection.reason == reason)
    }

    @Test("an unmasked frame fails the connection with 1002")
    func unmasked() async throws {
        let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: #"{"ping":{}}"#))
        try await expectFailure(try frameBytes(frame), code: .protocolError, reason: .protocolError)
    }

    @Test("a frame with an RSV bit set, no extension negotiated, fails with 1002")
    func rsvBits() async throws {
        for (rsv1, rsv2, rsv3) in [(true, false, false), (false, true, false), (false, false, true)] {
            let frame = WebSocketFrame(
                fin: true, rsv1: rsv1, rsv2: rsv2, rsv3: rsv3, opcode: .text, maskKey: mask, data: ByteBuffer(string: #"{"ping":{}}"#)
            )
            try await expectFailure(try frameBytes(frame), code: .protocolError, reason: .protocolError)
        }
    }

    @Test("reserved opcodes (3–7, 11–15) fail with 1002")
    func reservedOpcodes() async throws {
        for raw in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            let opcode = try #require(WebSocketOpcode(encodedWebSocketOpcode: UInt8(raw)))
            let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: mask, data: ByteBuffer())
            try await expectFailure(try frameBytes(frame), code: .protocolError, reason: .protocolError)
        }
    }

    @Test("a fragmented control frame fails with 1002")
    func fragmentedPing() async throws {
        let frame = WebSocketFrame(fin: false, opcode: .ping, maskKey: mask, data: ByteBuffer(string: "x"))
        try await expectFailure(try frameBytes(frame), code: .protocolError, reason: .protocolError)
    }

    @Test("a close with a code no peer may send, or a lone byte, fails with 1002; a reason that is not UTF-8 with 1007")
    func badCloses() async throws {
        for raw in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            var payload = ByteBuffer()
            payload.writeInteger(UInt16(raw))
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: payload)
            try await expectFailure(try frameBytes(frame), code: .protocolError, reason: .protocolError)
        }
        let lone = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: ByteBuffer(bytes: [3]))
        try await expectFailure(try frameBytes(lone), code: .protocolError, reason: .protocolError)
        var badReason = ByteBuffer()
        badReason.writeInteger(UInt16(1000))
        badReason.writeBytes([0xC3, 0x28])
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: badReason)
        try await expectFailure(try frameBytes(frame), code: .dataInconsistentWithMessage, reason: .invalidUTF8)
    }

    @Test("valid close codes are echoed: the defined ones, 1012–1014 and 3000–4999")
    func validCloses() async throws {
        for raw in [1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999] {
            let services = try await makeTestServices()
            let (channel, _) = try await open(services)
            var payload = ByteBuffer()
            payload.writeInteger(UInt16(raw))
            payload.writeString("bye")
            try await channel.writeInbound(try frameBytes(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: mask, data: payload)))
            var echo = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
            #expect(echo.data.readInteger(as: UInt16.self) == UInt16(raw))
            try await channel.closeFuture.get()
        }
    }

    /// Holds every write from here on: a socket the client never reads, so the close
    /// frame never leaves.
    final class StalledSocket: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        var stalled = false
        var held: [EventLoopPromise<Void>?] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if stalled { held.append(promise) } else { context.write(data, promise: promise) }
        }
    }

    @Test("a node that fails a client which reads nothing drops the socket after the close timeout")
    func closeTimerAfterFailing() async throws {
        let services = try await makeTestServices { $0.closeTimeout = .seconds(2) }
        let stall = StalledSocket()
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
        try await channel.pipeline.addHandler(stall)
        try await channel.pipeline.addHandler(ServerFrameReader())
        try await channel.pipeline.addHandler(WebSocketFrameEncoder())
        try await channel.pipeline.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1024)))
        try await channel.pipeline.addHandler(
            ClientChannelHandler(services: services, accepted: Handshake.Accepted(user: "alice", format: .json), channel: channel)
        )
        _ = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)  // the welcome
        try await channel.testingEventLoop.executeInContext { stall.stalled = true }
        // An unmasked frame: the node fails the connection, but its close frame cannot leave.
        try await channel.writeInbound(try frameBytes(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "{}"))))
        await channel.testingEventLoop.advanceTime(by: .seconds(2) - .nanoseconds(1))
        #expect(channel.isActive, "dropped before the close timeout")
        await channel.testingEventLoop.advanceTime(by: .nanoseconds(1))
        try await channel.closeFuture.get()
    }

    @Test("pings from a client whose socket is full are answered once, with the latest payload, when it drains")
    func pingFlood() async throws {
        let services = try await makeTestServices {
            $0.clientRate = 2000  // within the rate limit: pings past it are the rate limit's (RateLimitTests)
            $0.clientBurst = 2000
        }
        let (channel, _) = try await open(services)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        for n in 0..<1000 {
            try await channel.writeInbound(try frameBytes(WebSocketFrame(fin: true, opcode: .ping, maskKey: mask, data: ByteBuffer(string: "p\(n)"))))
        }
        #expect(try await channel.readOutbound(as: WebSocketFrame.self) == nil, "no pong while the socket takes no writes")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let pong = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(pong.opcode == .pong)
        #expect(String(buffer: pong.data) == "p999")
        #expect(try await channel.readOutbound(as: WebSocketFrame.self) == nil, "one pong for a thousand pings")
        #expect(channel.isActive)
        try await channel.close()
    }

    @Test("frames sent just before a close are answered before the close is echoed")
    func answersBeforeClose() async throws {
        let services = try await makeTestServices()
        let (channel, _) = try await open(services)
        var bytes = try clientBytes(.text, ByteBuffer(string: #"{"id":"who","presence":{"user":"bob"}}"#))
        var ping = try clientBytes(.text, ByteBuffer(string: #"{"id":"p","ping":{}}"#))
        var send = try clientBytes(.text, ByteBuffer(string: #"{"id":"s","send":{"to":"alice","data":1}}"#))
        var close = try clientBytes(.connectionClose, closePayload(.normalClosure))
        bytes.writeBuffer(&ping)
        bytes.writeBuffer(&send)
        bytes.writeBuffer(&close)
        try await channel.writeInbound(bytes)  // all four in one read
        var ids: [String] = []
        while true {
            var frame = try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
            if frame.opcode == .connectionClose {
                #expect(frame.data.readWebSocketErrorCode() == .normalClosure)
                break
            }
            let text = String(buffer: frame.data)
            if let id = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], let value = id["id"] as? String {
                ids.append(value)
            }
        }
        #expect(ids == ["who", "p", "s"], "every answer precedes the close echo")
        try await channel.closeFuture.get()
    }

    @Test("close reasons are cut to 123 bytes on a character boundary")
    func closeReasonLength() {
        #expect(WebSocketFrame.closeReason(String(repeating: "a", count: 200)).utf8.count == 123)
        let accents = String(repeating: "é", count: 100)  // 2 bytes each
        #expect(WebSocketFrame.closeReason(accents).utf8.count == 122)
        #expect(WebSocketFrame.closeReason("short") == "short")
        let frame = WebSocketFrame.close(.normalClosure, reason: String(repeating: "👍", count: 100), allocator: ByteBufferAllocator())
        #expect(frame.data.readableBytes <= 125)
        #expect(String(validating: frame.data.readableBytesView.dropFirst(2), as: UTF8.self) != nil)
    }
}
