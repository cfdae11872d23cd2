import GRPCCore
import NIOWebSocket
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport
import WSCore

@Suite("The Gateway API that backends push through", .timeLimit(.minutes(2)))
struct GatewayAPITests {
    private static func authorized(_ secret: String = RunningNode.pushSecret) -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(secret)", forKey: "authorization")
        return metadata
    }

    @Test("a push to an online user is delivered; to an offline user it says offline")
    func pushOutcome() async throws {
        try await withNode { node in
            let dana = try await node.connect("dana")
            try await withGRPCClient(port: node.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = "dana"
                request.push.kind = "alert"
                request.push.data = .init(stringValue: "hello")
                let delivered = try await gateway.pushToUser(request, metadata: Self.authorized())
                #expect(delivered.deliveredLocal == 1)
                #expect(!delivered.offline)

                request.user = "nobody"
                let offline = try await gateway.pushToUser(request, metadata: Self.authorized())
                #expect(offline.offline)
                #expect(offline.deliveredLocal == 0)

                var presence = Switchboard_Gateway_V1_GetPresenceRequest()
                presence.user = "dana"
                let connections = try await gateway.getPresence(presence, metadata: Self.authorized()).connections
                #expect(connections.map(\.node) == ["node-1"])
            }
            let push = try #require(try await dana.receiveJSON()["push"] as? [String: Any])
            #expect(push["from"] as? String == "backend")
            #expect(push["origin"] as? String == "backend")
            #expect(push["kind"] as? String == "alert")
            #expect(push["data"] as? String == "hello")
            try await dana.close()
        }
    }

    @Test("a wrong or missing push secret is refused as unauthenticated")
    func wrongSecret() async throws {
        try await withNode { node in
            try await withGRPCClient(port: node.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = "dana"
                for metadata in [Self.authorized("not-the-push-secret-at-all"), Metadata()] {
                    let error = await #expect(throws: RPCError.self) { try await gateway.pushToUser(request, metadata: metadata) }
                    #expect(error?.code == .unauthenticated)
                }
            }
        }
    }

    @Test("broadcast reaches everyone; disconnectUser closes that user's sockets with 4003")
    func broadcastAndDisconnect() async throws {
        try await withNode { node in
            let ed = try await node.connect("ed")
            let flo = try await node.connect("flo")
            try await withGRPCClient(port: node.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var broadcast = Switchboard_Gateway_V1_BroadcastRequest()
                broadcast.push.kind = "news"
                let broadcastOutcome = try await gateway.broadcast(broadcast, metadata: Self.authorized())
                #expect(broadcastOutcome.deliveredLocal == 2)
                var disconnect = Switchboard_Gateway_V1_DisconnectUserRequest()
                disconnect.user = "ed"
                disconnect.reason = "account suspended"
                let disconnected = try await gateway.disconnectUser(disconnect, metadata: Self.authorized())
                #expect(disconnected.closedLocal == 1)
            }
            #expect((try await ed.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "news")
            #expect((try await flo.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "news")
            let close = try await ed.closed()
            #expect(close?.closeCode == .init(codeNumber: 4003))
            #expect(close?.reason == "account suspended")
            try await flo.close()
        }
    }
}
