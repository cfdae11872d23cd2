import Node
import Foundation
import GRPCCore
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// The Gateway API's `PushStream`: many pushes over one stream, one outcome per item.
@Suite("Gateway API push stream", .timeLimit(.minutes(2)))
struct PushStreamTests {
    private static let authorized: Metadata = ["authorization": "Bearer \(RunningNode.pushSecret)"]

    private static func item(_ id: UInt64, kind: String = "alert", text: String = "", _ target: (inout Switchboard_Gateway_V1_PushStreamItem) -> Void) -> Switchboard_Gateway_V1_PushStreamItem {
        var item = Switchboard_Gateway_V1_PushStreamItem()
        item.id = id
        item.push.kind = kind
        item.push.data = .init(stringValue: text.isEmpty ? "item \(id)" : text)
        target(&item)
        return item
    }

    /// Sends `items` over one stream and returns every outcome by id.
    private static func stream(
        _ items: [Switchboard_Gateway_V1_PushStreamItem], port: Int, metadata: Metadata = authorized
    ) async throws -> [UInt64: Switchboard_Gateway_V1_PushStreamOutcome] {
        try await withGRPCClient(port: port) { client in
            try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushStream(
                metadata: metadata,
                requestProducer: { writer in try await writer.write(contentsOf: items) },
                onResponse: { response in
                    var outcomes: [UInt64: Switchboard_Gateway_V1_PushStreamOutcome] = [:]
                    for try await outcome in response.messages {
                        #expect(outcomes[outcome.id] == nil, "one outcome per item")
                        outcomes[outcome.id] = outcome
                    }
                    return outcomes
                }
            )
        }
    }

    @Test("items to a user, a connection and everyone are pushed and answered one by one; bad items are answered with their error and the stream goes on")
    func mixedItems() async throws {
        try await withNode { node in
            let ed = try await node.connect("ed")
            let flo = try await node.connect("flo")
            let floConnection = try await withGRPCClient(port: node.grpcPort) { client in
                var presence = Switchboard_Gateway_V1_GetPresenceRequest()
                presence.user = "flo"
                return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                    .getPresence(presence, metadata: Self.authorized).connections[0].connection
            }
            let outcomes = try await Self.stream([
                Self.item(1) { $0.user = "ed" },
                Self.item(2) { $0.user = "" },
                Self.item(3) { $0.connection = floConnection },
                Self.item(4) { _ in },
                Self.item(5) { $0.connection = "not-a-connection" },
                Self.item(6) { $0.user = "ghost" },
                Self.item(7, kind: "news") { $0.everyone = true },
            ], port: node.grpcPort)
            #expect(Set(outcomes.keys) == Set(1...7))
            #expect(outcomes[1]?.outcome.deliveredLocal == 1)
            #expect(outcomes[3]?.outcome.deliveredLocal == 1)
            #expect(outcomes[6]?.outcome.offline == true)
            #expect(outcomes[7]?.outcome.deliveredLocal == 2)
            for id: UInt64 in [2, 4, 5] {
                #expect(outcomes[id]?.error.code == Int32(RPCError.Code.invalidArgument.rawValue), "item \(id): \(String(describing: outcomes[id]))")
                #expect(outcomes[id]?.error.message.isEmpty == false)
            }

            #expect((try await ed.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "item 1")
            #expect((try await ed.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "news")
            #expect((try await flo.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "item 3")
            #expect((try await flo.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "news")
            try await ed.close()
            try await flo.close()
        }
    }

    @Test("data as JSON text (dataJson) reaches clients as that JSON; malformed JSON, or both data and dataJson, is invalid_argument")
    func dataJSON() async throws {
        try await withNode { node in
            let ida = try await node.connect("ida")
            let binary = try await node.connect("ida", format: .protobuf)
            let outcomes = try await Self.stream([
                Self.item(1) { $0.user = "ida"; $0.push.clearData(); $0.push.dataJson = Data(#"{"list":[1,2.5,"three"],"nested":{"ok":true}}"#.utf8) },
                Self.item(2) { $0.user = "ida"; $0.push.clearData(); $0.push.dataJson = Data(#"{"open":"#.utf8) },
                Self.item(3) { $0.user = "ida"; $0.push.dataJson = Data("1".utf8) },
            ], port: node.grpcPort)
            #expect(outcomes[1]?.outcome.deliveredLocal == 2)
            for id: UInt64 in [2, 3] {
                #expect(outcomes[id]?.error.code == Int32(RPCError.Code.invalidArgument.rawValue), "item \(id)")
            }
            let data = try #require((try await ida.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])
            #expect(data["list"] as? [Any] != nil && (data["nested"] as? [String: Any])?["ok"] as? Bool == true)
            // A protobuf client gets the same data as a google.protobuf.Value.
            let frame = try Switchboard_V1_ServerFrame(serializedBytes: try await binary.receiveBinary())
            #expect(frame.push.data.structValue.fields["list"]?.listValue.values.count == 3)
            try await ida.close()
            try await binary.close()
        }
    }

    @Test("thousands of pushes on one stream reach the user once each, in the order sent")
    func manyInOrder() async throws {
        // A queue that holds them all: what this proves is order and exactly-once, not the
        // slow-consumer close, which a reader starved of CPU on a busy machine met with the
        // default 1,024 frames (SlowConsumerTests prove that close).
        try await withNode(configure: { $0.queueMessages = 4096 }) { node in
            let gil = try await node.connect("gil")
            let count = 3000
            // gil reads as the pushes come, as a client does.
            let received = Task {
                var data: [String] = []
                for _ in 0..<count {
                    guard let push = try await gil.receiveJSON()["push"] as? [String: Any] else { break }
                    data.append(push["data"] as? String ?? "")
                }
                return data
            }
            let outcomes = try await Self.stream(
                (0..<UInt64(count)).map { id in Self.item(id, text: "\(id)") { $0.user = "gil" } }, port: node.grpcPort
            )
            #expect(outcomes.count == count)
            #expect(outcomes.values.allSatisfy { $0.outcome.deliveredLocal == 1 })
            #expect(try await received.value == (0..<count).map { "\($0)" }, "every push once, in the order sent")
            try await gil.close()
        }
    }

    @Test("a stream without the push secret is refused as unauthenticated, and pushes nothing")
    func unauthenticated() async throws {
        try await withNode { node in
            let hal = try await node.connect("hal")
            for metadata: Metadata in [[:], ["authorization": "Bearer wrong"]] {
                let error = await #expect(throws: RPCError.self) {
                    _ = try await Self.stream([Self.item(1) { $0.user = "hal" }], port: node.grpcPort, metadata: metadata)
                }
                #expect(error?.code == .unauthenticated)
            }
            // The node still answers hal: nothing was pushed before the ping's answer.
            hal.send(#"{"id":"p","ping":{}}"#)
            #expect(try await hal.receiveJSON()["id"] as? String == "p")
            try await hal.close()
        }
    }
}
