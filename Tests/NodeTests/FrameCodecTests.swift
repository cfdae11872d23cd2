import NIOCore
import NIOWebSocket
@testable import Node
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing

@Suite("Frame codec: the JSON send's fast path and pushes encoded around their data")
struct FrameCodecTests {
    private func decodeSend(_ text: String) throws(SendFrameError) -> DecodedFrame.Send? {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(SendFrameError) in try FrameCodec.decodeSend(text: UnsafeRawBufferPointer(bytes)) } }.get()
    }

    @Test("a send's data is kept exactly as the client wrote it; the envelope's strings are decoded")
    func sendFastPath() throws {
        let data = #"{ "b": 1,  "a" : [1.50, 1e3, "\u00e9"] }"#
        let send = try #require(try decodeSend(#" {"id":"7", "send" : {"to":"bo\u0062","kind":"chat","data":"# + data + #", "future":{"x":1}}} "#))
        #expect(send.id == "7")
        #expect(send.to == "bob")
        #expect(send.kind == "chat")
        #expect(send.data == Array(data.utf8))
        let bare = try #require(try decodeSend(#"{"send":{"to":"bob"}}"#))
        #expect(bare.data == nil && bare.id.isEmpty && bare.kind.isEmpty)
    }

    @Test("frames other than a send go to the protobuf decoder")
    func otherFrames() throws {
        #expect(try decodeSend(#"{"id":"1","call":"chat.send","data":{}}"#) == nil)
        #expect(try decodeSend(#"{"id":"1","ping":{}}"#) == nil)
        #expect(try decodeSend(#"{"id":"1","send":{"to":"b"},"presence":{"user":"b"}}"#) == nil, "two operations: the protobuf decoder refuses it")
        #expect(try decodeSend(#"{"id":"1"}"#) == nil)
    }

    @Test("malformed or too deep send data is refused with a reason, and the frame's id when it was read")
    func refused() {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        do {
            _ = try decodeSend(#"{"id":"d1","send":{"to":"b","data":"# + deep + "}}")
            Issue.record("33-deep data was taken")
        } catch {
            #expect(error.id == "d1")
            #expect(error.message.contains("32"), "\(error.message)")
        }
        do {
            _ = try decodeSend(#"{"id":"d2","send":{"to":"b","data":{"a":01}}}"#)
            Issue.record("a malformed number was taken")
        } catch {
            #expect(error.id == "d2")
        }
        #expect(throws: SendFrameError.self) { try decodeSend(#"{"send":{"to":"b","data":1}} trailing"#) }
    }

    @Test("a JSON push is written around the data's own text; protobuf receivers get it as a Value")
    func encodePush() throws {
        let data = #"{"x": [1, 2.50]}"#
        let push = PushPayload(from: "al\"ice\n", kind: "message", data: Array(data.utf8))
        let json = FrameCodec.encode(push: push, as: .json)
        #expect(json.opcode == .text)
        #expect(String(buffer: json.data) == #"{"push":{"from":"al\"ice\n","kind":"message","data":{"x": [1, 2.50]},"origin":"user"}}"#)
        let parsed = try Switchboard_V1_ServerFrame(jsonUTF8Bytes: Array(json.data.readableBytesView))
        #expect(parsed.push.from == "al\"ice\n")
        #expect(parsed.push.origin == "user")
        #expect(parsed.push.data.structValue.fields["x"]?.listValue.values.last?.numberValue == 2.5)

        let binary = try Switchboard_V1_ServerFrame(serializedBytes: Array(FrameCodec.encode(push: push, as: .protobuf).data.readableBytesView))
        #expect(binary.push == parsed.push)
        let empty = FrameCodec.encode(push: PushPayload(from: "", kind: "k", data: nil), as: .json)
        #expect(String(buffer: empty.data) == #"{"push":{"kind":"k","origin":"user"}}"#)
        let bare = FrameCodec.encode(push: PushPayload(from: "", kind: "", data: nil, origin: .backend), as: .json)
        #expect(String(buffer: bare.data) == #"{"push":{"origin":"backend"}}"#)
        let backend = FrameCodec.encode(push: PushPayload(from: "chat", kind: "chat.message", data: nil, origin: .backend), as: .protobuf)
        #expect(try Switchboard_V1_ServerFrame(serializedBytes: Array(backend.data.readableBytesView)).push.origin == "backend")
    }

    @Test("a send's answer is written directly in JSON, with integers; protobuf gets the same value")
    func sendAnswer() throws {
        let outcome = PushOutcome(localConnections: 2, relayedNodes: 13)
        let json = FrameCodec.encode(answerTo: "a\"1", outcome, as: .json)
        #expect(String(buffer: json.data) == #"{"id":"a\"1","ok":{"delivered":2,"relayedNodes":13}}"#)
        let parsed = try Switchboard_V1_ServerFrame(jsonUTF8Bytes: Array(json.data.readableBytesView))
        let binary = try Switchboard_V1_ServerFrame(serializedBytes: Array(FrameCodec.encode(answerTo: "a\"1", outcome, as: .protobuf).data.readableBytesView))
        #expect(binary == parsed)
        #expect(binary.ok.structValue.fields["relayedNodes"]?.numberValue == 13)
    }

    @Test("a frame's id is found without decoding it when it comes first; otherwise it is empty")
    func peekID() throws {
        #expect(FrameCodec.peekID(.text(#"  {"id":"a1","send":{"to":"b","data":"#)) == "a1")
        #expect(FrameCodec.peekID(.text(#"{"send":{},"id":"late"}"#)) == "")
        #expect(FrameCodec.peekID(.text(#"{"id":"esc\"aped","ping":{}}"#)) == "")
        #expect(FrameCodec.peekID(.text("garbage")) == "")
        var frame = Switchboard_V1_ClientFrame()
        frame.id = "p7"
        frame.ping = .init()
        #expect(FrameCodec.peekID(.binary(ByteBuffer(bytes: try frame.serializedBytes() as [UInt8]))) == "p7")
        #expect(FrameCodec.peekID(.binary(ByteBuffer(bytes: [0x2A, 0x00]))) == "")
    }
}
