import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
@testable import Node
import Testing

/// The per-connection rate limit on the event loop's virtual clock: a burst, then the
/// sustained rate, `rate_limited` past it, and a close (4029) for a client that sends on
/// while refused.
@Suite("Client rate limit on virtual time")
struct RateLimitTests {
    private func open(_ configure: @escaping (inout NodeConfiguration) -> Void) async throws -> NIOAsyncTestingChannel {
        try await openTestConnection(try await makeTestServices(configure), maxFrameSize: 1 << 20).0
    }

    private func pings(_ ids: Range<Int>, padding: Int = 0) throws -> ByteBuffer {
        var bytes = ByteBuffer()
        let pad = String(repeating: " ", count: padding)
        for id in ids {
            var frame = try clientBytes(.text, ByteBuffer(string: #"{"id":"\#(id)","ping":{}}"# + pad))
            bytes.writeBuffer(&frame)
        }
        return bytes
    }

    /// The answers written so far: id → error code, or "ok".
    private func answers(_ channel: NIOAsyncTestingChannel) async throws -> [(id: String, outcome: String)] {
        var result: [(String, String)] = []
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) {
            guard frame.opcode == .text else { continue }
            let object = try JSONSerialization.jsonObject(with: Data(String(buffer: frame.data).utf8)) as? [String: Any] ?? [:]
            let outcome = (object["error"] as? [String: Any])?["code"] as? String ?? "ok"
            result.append((object["id"] as? String ?? "", outcome))
        }
        return result
    }

    @Test("a burst is served, then the sustained rate; frames past it are refused rate_limited with their id, and the socket stays")
    func burstThenRate() async throws {
        let channel = try await open {
            $0.clientRate = 10
            $0.clientBurst = 20
        }
        try await channel.writeInbound(try pings(0..<25))
        var seen = try await answers(channel)
        #expect(seen.filter { $0.outcome == "ok" }.map(\.id) == (0..<20).map(String.init))
        #expect(seen.filter { $0.outcome == "rate_limited" }.map(\.id) == (20..<25).map(String.init))
        // A second later, ten more (the rate), then refusals again.
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        try await channel.writeInbound(try pings(100..<112))
        seen = try await answers(channel)
        #expect(seen.filter { $0.outcome == "ok" }.count == 10)
        #expect(seen.filter { $0.outcome == "rate_limited" }.count == 2)
        #expect(channel.isActive)
        try await channel.close()
    }

    @Test("bytes count too: frames past the byte rate are refused even within the message rate")
    func byteRate() async throws {
        let channel = try await open {
            $0.clientRate = 1000
            $0.clientBurst = 1000
            $0.maxFrameBytes = 1024
            $0.clientBytesRate = 1024  // burst: 2 KiB
        }
        try await channel.writeInbound(try pings(0..<4, padding: 900))  // ~920 bytes each
        let seen = try await answers(channel)
        #expect(seen.map(\.outcome) == ["ok", "ok", "rate_limited", "rate_limited"])
        try await channel.close()
    }

    @Test("WebSocket pings count against the limit: past it they go unanswered, and a ping flood is closed with 4029 like any other")
    func pingsCount() async throws {
        let channel = try await open {
            $0.clientRate = 10
            $0.clientBurst = 20
        }
        var bytes = ByteBuffer()
        for n in 0..<41 {
            var ping = try clientBytes(.ping, ByteBuffer(string: "\(n)"))
            bytes.writeBuffer(&ping)
        }
        try await channel.writeInbound(bytes)
        var pongs = 0
        var closeCode: WebSocketErrorCode?
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) {
            if frame.opcode == .pong { pongs += 1 }
            if frame.opcode == .connectionClose {
                var data = frame.data
                closeCode = data.readWebSocketErrorCode()
            }
        }
        #expect(pongs == 20, "the burst is answered, the rest is not")
        #expect(closeCode == WebSocketErrorCode(codeNumber: 4029))
        try await channel.closeFuture.get()
    }

    @Test("a message's fragments each count as a frame: 1,024 empty fragments are refused, a message in 3 is served")
    func fragmentsCount() async throws {
        let services = try await makeTestServices {
            $0.clientRate = 10
            $0.clientBurst = 20
        }
        let channel = try await openTestConnection(services, maxFrameSize: 1 << 20, joiningFragments: true).0
        func fragmented(_ text: String, id: String, emptyFragments: Int) -> ByteBuffer {
            let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
            let mask = WebSocketMaskingKey([7, 1, 9, 3])
            try! encoder.writeOutbound(WebSocketFrame(fin: false, opcode: .text, maskKey: mask, data: ByteBuffer(string: #"{"id":"\#(id)","#)))
            for _ in 0..<emptyFragments {
                try! encoder.writeOutbound(WebSocketFrame(fin: false, opcode: .continuation, maskKey: mask, data: ByteBuffer()))
            }
            try! encoder.writeOutbound(WebSocketFrame(fin: true, opcode: .continuation, maskKey: mask, data: ByteBuffer(string: text)))
            var bytes = ByteBuffer()
            while var part = try! encoder.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
            return bytes
        }
        try await channel.writeInbound(fragmented(#""ping":{}}"#, id: "three", emptyFragments: 1))
        try await channel.writeInbound(fragmented(#""ping":{}}"#, id: "many", emptyFragments: 1022))
        let seen = try await answers(channel)
        #expect(seen.map(\.id) == ["three", "many"])
        #expect(seen.map(\.outcome) == ["ok", "rate_limited"])
        try await channel.close()
    }

    @Test("a client that keeps sending while refused — more refusals than the rate forgives, up to its burst — is closed with 4029")
    func sustainedAbuseCloses() async throws {
        let channel = try await open {
            $0.clientRate = 10
            $0.clientBurst = 20
        }
        try await channel.writeInbound(try pings(0..<41))  // 20 served, 20 refused, then one more
        var closeCode: WebSocketErrorCode?
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) {
            if frame.opcode == .connectionClose {
                var data = frame.data
                closeCode = data.readWebSocketErrorCode()
            }
        }
        #expect(closeCode == WebSocketErrorCode(codeNumber: 4029))
        try await channel.closeFuture.get()
    }
}
