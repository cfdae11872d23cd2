import NIOCore
import NIOWebSocket
import Node
import Testing
import NodeTestSupport
import TestSupport
import WSCore

@Suite("Bad input from clients", .timeLimit(.minutes(2)))
struct BadInputTests {
    @Test("a malformed frame gets an error frame and the socket stays usable")
    func malformedFrame() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            alice.send("{this is not json")
            let error = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            #expect(error["code"] as? String == "bad_frame")

            alice.send(#"{"id":"x","unknownField":42,"ping":{}}"#)  // unknown fields are ignored
            #expect(try await alice.receiveJSON()["id"] as? String == "x")

            alice.send(#"{"id":"y"}"#)  // no operation
            #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "bad_frame")

            alice.send(#"{"id":"z","send":{"to":""}}"#)
            #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "invalid_argument")

            alice.send(binary: [0xFF, 0xFF, 0xFF])  // not protobuf either
            #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "bad_frame")
            alice.send(#"{"id":"still","ping":{}}"#)
            #expect(try await alice.receiveJSON()["id"] as? String == "still")
            try await alice.close()
        }
    }

    @Test("a message over the frame limit closes with 1009")
    func oversizeFrame() async throws {
        try await withNode(configure: { $0.maxFrameBytes = 4096 }) { node in
            let alice = try await node.connect("alice")
            alice.send(#"{"id":"1","send":{"to":"alice","data":""# + String(repeating: "x", count: 5000) + #""}}"#)
            let close = try await alice.closed()
            #expect(close?.closeCode == .messageTooLarge)
            try await waitUntil { node.node.connectionCount == 0 }
        }
    }

    @Test("a fragmented message over the limit closes with 1009 too")
    func oversizeFragments() async throws {
        try await withNode(configure: { $0.maxFrameBytes = 4096 }) { node in
            let alice = try await node.connect("alice")
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 3000)
            alice.send(frame: WebSocketFrame(fin: false, opcode: .text, data: chunk))
            alice.send(frame: WebSocketFrame(fin: true, opcode: .continuation, data: chunk))
            #expect(try await alice.closed()?.closeCode == .messageTooLarge)
        }
    }

    @Test("a text frame that is not UTF-8 closes with 1007")
    func invalidUTF8() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            alice.send(frame: WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x7B, 0xC3, 0x28, 0x7D])))
            #expect(try await alice.closed()?.closeCode == .dataInconsistentWithMessage)
        }
    }
}
