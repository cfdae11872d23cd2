import Node
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

@Suite("Gateway-native calls on one node", .timeLimit(.minutes(2)))
struct MessagingTests {
    @Test("two users exchange messages: alice in JSON, bob in binary protobuf")
    func jsonAndBinary() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice", format: .json)
            let bob = try await node.connect("bob", format: .protobuf)

            alice.send(#"{"id":"a1","send":{"to":"bob","data":{"text":"hi bob","n":1}}}"#)
            let push = try Switchboard_V1_ServerFrame(serializedBytes: try await bob.receiveBinary())
            #expect(push.push.from == "alice")
            #expect(push.push.kind == "message")
            #expect(push.push.data.structValue.fields["text"]?.stringValue == "hi bob")
            #expect(push.push.data.structValue.fields["n"]?.numberValue == 1)
            let reply = try await alice.receiveJSON()
            #expect(reply["id"] as? String == "a1")
            #expect((reply["ok"] as? [String: Any])?["delivered"] as? Int == 1)

            var frame = Switchboard_V1_ClientFrame()
            frame.id = "b1"
            frame.send.to = "alice"
            frame.send.kind = "greeting"
            frame.send.data = .init(structValue: ["text": .init(stringValue: "hi alice")])
            bob.send(binary: try frame.serializedBytes())
            let received = try await alice.receiveJSON()
            let body = try #require(received["push"] as? [String: Any])
            #expect(body["from"] as? String == "bob")
            #expect(body["kind"] as? String == "greeting")
            #expect((body["data"] as? [String: Any])?["text"] as? String == "hi alice")
            let bobReply = try Switchboard_V1_ServerFrame(serializedBytes: try await bob.receiveBinary())
            #expect(bobReply.id == "b1")
            #expect(bobReply.ok.structValue.fields["delivered"]?.numberValue == 1)

            try await alice.close()
            try await bob.close()
        }
    }

    @Test("a user with two connections gets the push on both")
    func twoConnections() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            let phone = try await node.connect("bob")
            let laptop = try await node.connect("bob", format: .protobuf)

            alice.send(#"{"id":"1","send":{"to":"bob","data":"ping"}}"#)
            #expect((try await phone.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "ping")
            #expect(try Switchboard_V1_ServerFrame(serializedBytes: try await laptop.receiveBinary()).push.data.stringValue == "ping")
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["delivered"] as? Int == 2)

            for client in [alice, phone, laptop] { try await client.close() }
        }
    }

    @Test("a send without an id is fire-and-forget: no reply on success, an error on failure")
    func fireAndForget() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob")
            alice.send(#"{"send":{"to":"bob","data":1}}"#)
            alice.send(#"{"send":{"to":"nobody","data":2}}"#)
            alice.send(#"{"id":"after","ping":{}}"#)
            #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == 1)
            let error = try await alice.receiveJSON()
            #expect(error["id"] == nil)
            #expect((error["error"] as? [String: Any])?["code"] as? String == "offline")
            #expect(try await alice.receiveJSON()["id"] as? String == "after")
            try await alice.close()
            try await bob.close()
        }
    }

    @Test("send to a user with no connection replies offline")
    func offline() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            alice.send(#"{"id":"9","send":{"to":"nobody","data":{}}}"#)
            let reply = try await alice.receiveJSON()
            #expect(reply["id"] as? String == "9")
            #expect((reply["error"] as? [String: Any])?["code"] as? String == "offline")

            // A user who disconnected is offline again.
            let bob = try await node.connect("bob")
            try await bob.close()
            try await waitUntil { node.node.connectionCount == 1 }
            alice.send(#"{"id":"10","send":{"to":"bob","data":{}}}"#)
            #expect((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "offline")
            try await alice.close()
        }
    }

    @Test("the first frame welcomes the connection with its id; presence lists it with its node")
    func presence() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob", awaitWelcome: false)
            let welcome = try #require(try await bob.receiveJSON()["welcome"] as? [String: Any])
            #expect(welcome["user"] as? String == "bob")
            #expect(welcome["node"] as? String == "node-1")
            let inbox = try #require(welcome["inbox"] as? [String: Any])
            #expect(inbox["resumed"] as? Bool == false, "every field is written, false ones too")
            alice.send(#"{"id":"p","presence":{"user":"bob"}}"#)
            let ok = try #require(try await alice.receiveJSON()["ok"] as? [String: Any])
            #expect(ok["online"] as? Bool == true)
            let connections = try #require(ok["connections"] as? [[String: String]])
            #expect(connections.count == 1)
            #expect(connections.first?["node"] == "node-1")
            #expect(connections.first?["id"] == welcome["connection"] as? String)

            alice.send(#"{"id":"q","presence":{"user":"carol"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["online"] as? Bool == false)
            try await alice.close()
            try await bob.close()
        }
    }

    @Test("the welcome announces the connection's limits as configured, in JSON and in protobuf")
    func welcomeLimits() async throws {
        try await withNode(configure: {
            $0.maxFrameBytes = 4096
            $0.clientRate = 50
            $0.clientBurst = 70
            $0.maxCallsPerConnection = 3
            $0.presenceLimit = 7
            $0.queueMessages = 90
            $0.queueBytes = 1 << 20
            $0.pingInterval = .milliseconds(4500)
            $0.topicsPerConnection = 11
        }) { node in
            let json = try await node.connect("alice", awaitWelcome: false)
            let welcome = try #require(try await json.receiveJSON()["welcome"] as? [String: Any])
            let limits = try #require(welcome["limits"] as? [String: Int])
            #expect(limits == [
                "maxFrameBytes": 4096, "framesPerSecond": 50, "frameBurst": 70, "bytesPerSecond": 1 << 20, "byteBurst": 2 << 20,
                "callsInFlight": 3, "presenceConnections": 7, "queueFrames": 90, "queueBytes": 1 << 20, "pingIntervalMs": 4500, "topics": 11,
            ])
            let binary = try await node.connect("bob", format: .protobuf, awaitWelcome: false)
            let frame = try Switchboard_V1_ServerFrame(serializedBytes: try await binary.receiveBinary())
            #expect(frame.welcome.limits.maxFrameBytes == 4096 && frame.welcome.limits.callsInFlight == 3)
            #expect(frame.welcome.limits.pingIntervalMs == 4500 && frame.welcome.limits.byteBurst == 2 << 20)
            #expect(frame.welcome.limits.topics == 11)
            try await json.close()
            try await binary.close()
        }
    }

    @Test("a call with no route gets unknown_route, one whose backend is not configured unavailable; the socket stays usable")
    func unknownRoute() async throws {
        try await withNode { node in
            let alice = try await node.connect("alice")
            alice.send(#"{"id":"c","call":"weather.today","data":{}}"#)
            let error = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            #expect(error["code"] as? String == "unknown_route")
            alice.send(#"{"id":"d","call":"chat.send","data":{"to":"bob","text":"hi"}}"#)
            let unconfigured = try #require(try await alice.receiveJSON()["error"] as? [String: Any])
            #expect(unconfigured["code"] as? String == "unavailable")
            #expect((unconfigured["message"] as? String)?.contains("'chat' is not configured") == true)
            alice.send(#"{"id":"p","ping":{}}"#)
            #expect(try await alice.receiveJSON()["id"] as? String == "p")
            try await alice.close()
        }
    }
}
