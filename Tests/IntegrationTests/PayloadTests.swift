import Node
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// A send's data travels as the JSON its sender wrote: checked once on the sending node,
/// relayed as bytes, and written around as-is on the receiving node.
@Suite("Opaque payloads across nodes", .tags(.redis), .timeLimit(.minutes(2)))
struct PayloadTests {
    private func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
    }

    @Test("the JSON a receiver on another node gets is byte for byte the JSON the sender sent; a protobuf receiver gets the same value")
    func byteForByte() async throws {
        try await withCluster { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")
            let bobBinary = try await cluster.nodes[0].connect("bob", format: .protobuf)
            let data = #"{ "z": 1,  "a" : [1.50, 1e3, "\u00e9", {"deep": null}], "big": 12345678901234567890 }"#
            alice.send(#"{"id":"p1","send":{"to":"bob","kind":"raw","data":"# + data + "}}")
            #expect(try await bob.receiveText() == #"{"push":{"from":"alice","kind":"raw","data":"# + data + #","origin":"user"}}"#)
            let binary = try Switchboard_V1_ServerFrame(serializedBytes: try await bobBinary.receiveBinary())
            #expect(binary.push.data.structValue.fields["a"]?.listValue.values.first?.numberValue == 1.5)
            #expect(binary.push.data.structValue.fields["z"]?.numberValue == 1)
            let ok = try #require(try await alice.receiveJSON()["ok"] as? [String: Any])
            #expect(ok["delivered"] as? Int == 1)
            #expect(ok["relayedNodes"] as? Int == 1)
            for client in [alice, bob, bobBinary] { try await client.close() }
        }
    }

    @Test("data nested 32 deep crosses nodes; 33 deep is refused with a clear error and the socket stays usable")
    func depthLimit() async throws {
        try await withCluster { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")
            alice.send(#"{"id":"deep","send":{"to":"bob","data":"# + nested(33) + "}}")
            let refused = try await alice.receiveJSON()
            #expect(refused["id"] as? String == "deep")
            let error = try #require(refused["error"] as? [String: Any])
            #expect(error["code"] as? String == "bad_frame")
            #expect((error["message"] as? String)?.contains("32") == true)

            alice.send(#"{"id":"ok","send":{"to":"bob","data":"# + nested(32) + "}}")
            #expect(try await bob.receiveText() == #"{"push":{"from":"alice","kind":"message","data":"# + nested(32) + #","origin":"user"}}"#)
            #expect(try await alice.receiveJSON()["id"] as? String == "ok")
            try await alice.close()
            try await bob.close()
        }
    }

    @Test("a protobuf sender's data reaches a JSON receiver on another node as JSON; too deep a Value is refused")
    func protobufSender() async throws {
        try await withCluster { cluster in
            let alice = try await cluster.nodes[0].connect("alice", format: .protobuf)
            let bob = try await cluster.nodes[1].connect("bob")
            var frame = Switchboard_V1_ClientFrame()
            frame.id = "b1"
            frame.send.to = "bob"
            frame.send.data = .init(structValue: ["text": .init(stringValue: "hi")])
            alice.send(binary: try frame.serializedBytes())
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect((push["data"] as? [String: Any])?["text"] as? String == "hi")
            #expect(try Switchboard_V1_ServerFrame(serializedBytes: try await alice.receiveBinary()).ok.structValue.fields["relayedNodes"]?.numberValue == 1)

            var deep = Google_Protobuf_Value(numberValue: 1)
            for _ in 0..<33 { deep = .init(listValue: .init(values: [deep])) }
            frame.id = "b2"
            frame.send.data = deep
            alice.send(binary: try frame.serializedBytes())
            let refused = try Switchboard_V1_ServerFrame(serializedBytes: try await alice.receiveBinary())
            #expect(refused.id == "b2")
            #expect(refused.error.code == "invalid_argument")
            try await alice.close()
            try await bob.close()
        }
    }
}
