import Foundation
import GRPCCore
import Identity
@testable import Node
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// Who a client is and who a push is from: one rule for user ids, kinds reserved for
/// backends, an honest origin on every push, bounded per-user connections and presence.
@Suite("Identity and per-user limits", .timeLimit(.minutes(2)))
struct IdentityTests {
    @Test("user ids: a token whose sub is not NFC, too long or has control characters gets 401 with the rule; canonically-equal ids never meet")
    func userIDRule() async throws {
        try await withNode { node in
            for (sub, rule) in [
                ("jose\u{301}", "NFC"), (String(repeating: "u", count: 257), "256 bytes"), ("eve\nroot", "control"), ("nul\u{0}", "control"),
                ("alice ", "space"), (" alice", "space"), ("\u{3000}alice", "space"),
            ] {
                let token = try await node.token(for: sub)
                let response = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")])
                #expect(response.status == 401)
                #expect((try json(response.body)["error"] as? [String: String])?["message"]?.contains(rule) == true, "\(response.body)")
            }
            // The NFC spelling is a user; the decomposed spelling of the same name is refused
            // as a target, so it cannot reach (or be) that user.
            let jose = try await node.connect("jos\u{e9}")
            let alice = try await node.connect("alice")
            alice.send(#"{"id":"d","send":{"to":"jose\u0301","data":1}}"#)
            let refused = try await alice.receiveJSON()
            #expect((refused["error"] as? [String: Any])?["code"] as? String == "invalid_argument")
            alice.send(#"{"id":"n","send":{"to":"jos\u00e9","data":2}}"#)
            #expect((try await jose.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == 2)
            #expect(try await alice.receiveJSON()["id"] as? String == "n")
            alice.send(#"{"id":"p","presence":{"user":"a\u0007b"}}"#)
            #expect(((try await alice.receiveJSON())["error"] as? [String: Any])?["code"] as? String == "invalid_argument")
            try await jose.close()
            try await alice.close()
        }
    }

    @Test("the Gateway API applies the same user id rule to every call: invalid_argument naming it")
    func gatewayUserIDs() async throws {
        try await withNode { node in
            try await withGRPCClient(port: node.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                let metadata: Metadata = ["authorization": "Bearer \(RunningNode.pushSecret)"]
                for (user, rule) in [("", "empty"), ("bob ", "space"), ("a\u{7}b", "control"), ("jose\u{301}", "NFC")] {
                    var push = Switchboard_Gateway_V1_PushToUserRequest()
                    push.user = user
                    var presence = Switchboard_Gateway_V1_GetPresenceRequest()
                    presence.user = user
                    var disconnect = Switchboard_Gateway_V1_DisconnectUserRequest()
                    disconnect.user = user
                    for call in [
                        { _ = try await gateway.pushToUser(push, metadata: metadata) },
                        { _ = try await gateway.getPresence(presence, metadata: metadata) },
                        { _ = try await gateway.disconnectUser(disconnect, metadata: metadata) },
                    ] as [() async throws -> Void] {
                        await #expect { try await call() } throws: { error in
                            guard let error = error as? RPCError else { return false }
                            return error.code == .invalidArgument && error.message.contains(rule)
                        }
                    }
                }
            }
        }
    }

    @Test("kinds reserved for backends are refused in a send; every push says whether a user or a backend sent it")
    func reservedKindsAndOrigin() async throws {
        try await withNode { node in
            let mallory = try await node.connect("backend")  // a user may be called anything
            let bob = try await node.connect("bob")
            for kind in ["chat.message", "notification", "location.update", "system.alert", "switchboard.x"] {
                mallory.send(#"{"id":"k","send":{"to":"bob","kind":"\#(kind)","data":{"from":"alice"}}}"#)
                let error = try #require(try await mallory.receiveJSON()["error"] as? [String: Any])
                #expect(error["code"] as? String == "invalid_argument")
                #expect((error["message"] as? String)?.contains("reserved") == true)
            }
            mallory.send(#"{"id":"ok","send":{"to":"bob","kind":"chatty","data":1}}"#)
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect(push["from"] as? String == "backend")
            #expect(push["origin"] as? String == "user", "a user named backend is still a user")
            try await mallory.close()
            try await bob.close()
        }
    }

    @Test("one user holds at most max-connections-per-user on a node: the next gets 429 before the upgrade, and a slot comes back on close")
    func connectionsPerUser() async throws {
        try await withNode(configure: { $0.maxConnectionsPerUser = 3 }) { node in
            var held: [TestWebSocket] = []
            for _ in 0..<3 { held.append(try await node.connect("hoarder")) }
            let token = try await node.token(for: "hoarder")
            let refused = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")])
            #expect(refused.status == 429)
            #expect((try json(refused.body)["error"] as? [String: String])?["code"] == "too_many_connections")
            let other = try await node.connect("someone-else")
            try await held[0].close()
            try await waitUntil { node.node.admission.userConnections.count(of: "hoarder") == 2 }
            held[0] = try await node.connect("hoarder")
            #expect(try await node.metricValue("switchboard_limit_hits_total", labels: ["limit": "user_connections"]) == 1)
            for client in held + [other] { try await client.close() }
        }
    }

    @Test("presence lists at most presence-limit connections, with the total count")
    func boundedPresence() async throws {
        try await withNode(configure: { $0.presenceLimit = 2 }) { node in
            var many: [TestWebSocket] = []
            for _ in 0..<5 { many.append(try await node.connect("popular")) }
            let asker = try await node.connect("asker")
            asker.send(#"{"id":"q","presence":{"user":"popular"}}"#)
            let ok = try #require(try await asker.receiveJSON()["ok"] as? [String: Any])
            #expect((ok["connections"] as? [Any])?.count == 2)
            #expect(ok["count"] as? Int == 5)
            #expect(ok["online"] as? Bool == true)
            for client in many + [asker] { try await client.close() }
        }
    }
}
