import Essentials
import RedisBackplane
import Foundation
import GRPCCore
import GRPCSupport
import NIOWebSocket
import Node
import SwitchboardProtocol
import Routing
import Testing
import NodeTestSupport
import TestSupport

/// What survives a crash. How soon a dead node's presence goes is proven on virtual time
/// (`NodeLeaseServiceTests`); here the outcomes, with real processes and Redis.
@Suite("Cluster faults: a crashed node, a restarted Redis", .tags(.redis, .process), .timeLimit(.minutes(2)))
struct ClusterFaultTests {
    @Test("a node killed with SIGKILL: its users' presence and topic presence are swept by a live node and pushes to them report offline")
    func crashedNode() async throws {
        let redis = try await RedisServer.shared()
        let namespaces = "lobby:subscribe=any,publish=any,presence=on"
        try await withCluster(nodes: 1, redis: redis, configure: { $0.topicNamespaces = try! TopicNamespaces(parsing: namespaces) }) { cluster in
            let observer = try await cluster.nodes[0].connect("olga")

            let port = try freePort()
            let process = ChildProcess.guarded()
            process.executableURL = ProcessTests.executable
            process.arguments = [
                "node", "--port", "\(port)", "--grpc-port", "0", "--node-id", "doomed", "--log-level", "error",
                "--redis", redis.url, "--redis-prefix", cluster.prefix, "--topic-namespaces", namespaces,
            ]
            process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
            // Not the test's pipes: a node outliving a crashed test process would hold them open.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let token = try await RunningNode.token(for: "kim")
            var connected: TestWebSocket?
            try await waitUntil(timeout: .seconds(60)) {
                connected = try? await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/ws", token: token)
                return connected != nil
            }
            let kim = try #require(connected)
            kim.send(#"{"id":"sub","subscribe":{"topic":"lobby:1"}}"#)
            #expect(try await kim.receiveJSON()["ok"] != nil)
            observer.send(#"{"id":"before","presence":{"user":"kim"}}"#)
            let before = try #require((try await observer.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]])
            #expect(before.map { $0["node"] } == ["doomed"])
            observer.send(#"{"id":"topic-before","presence":{"topic":"lobby:1"}}"#)
            let members = try #require((try await observer.receiveJSON()["ok"] as? [String: Any])?["users"] as? [[String: Any]])
            #expect(members.map { $0["user"] as? String } == ["kim"])

            kill(process.processIdentifier, SIGKILL)
            try await waitUntil {
                observer.send(#"{"id":"p","presence":{"user":"kim"}}"#)
                let ok = try await observer.receiveJSON()["ok"] as? [String: Any]
                return ok?["online"] as? Bool == false
            }
            observer.send(#"{"id":"topic-after","presence":{"topic":"lobby:1"}}"#)
            let after = try #require(try await observer.receiveJSON()["ok"] as? [String: Any])
            #expect((after["users"] as? [Any])?.isEmpty == true, "swept with the node: \(after)")
            #expect(after["count"] as? Int == 0)
            observer.send(#"{"id":"s","send":{"to":"kim","data":"anyone?"}}"#)
            #expect((try await observer.receiveJSON()["error"] as? [String: Any])?["code"] as? String == "offline")
            try await observer.close()
        }
    }

    @Test("Redis restarted: local delivery never stops, cross-node fails with unavailable, and once Redis is back presence and relay work again unprompted")
    func redisRestart() async throws {
        let redis = try await RedisServer.start()
        try await withCluster(nodes: 2, redis: redis) { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[0].connect("bob")
            let carol = try await cluster.nodes[1].connect("carol")

            redis.kill()
            try await waitUntil {
                try await HTTPProbe.get(port: cluster.nodes[0].port, path: "/readyz").status == 503
            }
            // Local delivery keeps working throughout. Once the node has seen its subscriber
            // go, it cannot know that no other node holds bob: the cross-node part fails
            // fast and says so (until then bob counts as held here alone).
            var round = 0
            try await waitUntil {
                round += 1
                alice.send(#"{"id":"local\#(round)","send":{"to":"bob","data":"still here \#(round)"}}"#)
                #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "still here \(round)")
                guard let error = try await alice.receiveJSON()["error"] as? [String: Any] else { return false }
                #expect(error["code"] as? String == "unavailable")
                #expect((error["message"] as? String)?.contains("1 local") == true)
                // The cause (an address, a transport error) stays in the log, under the id the client gets.
                #expect((error["message"] as? String)?.contains("redis") == false)
                #expect((error["message"] as? String)?.contains("(incident ") == true)
                return true
            }
            // The Gateway API, likewise: unavailable, with an incident id and no address.
            try await withGRPCClient(port: cluster.nodes[0].grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var presence = Switchboard_Gateway_V1_GetPresenceRequest()
                presence.user = "carol"
                await #expect { _ = try await gateway.getPresence(presence, metadata: .bearer(RunningNode.pushSecret)) } throws: { error in
                    guard let error = error as? RPCError else { return false }
                    return error.code == .unavailable && error.message.contains("(incident ")
                        && !error.message.contains("127.0.0.1") && !error.message.contains("\(redis.port)")
                }
            }

            try await redis.launch()
            try await waitUntil {
                cluster.nodes.allSatisfy { $0.node.isReady }
            }
            try await waitUntil {
                alice.send(#"{"id":"p","presence":{"user":"carol"}}"#)
                return (try await alice.receiveJSON()["ok"] as? [String: Any])?["online"] as? Bool == true
            }
            alice.send(#"{"id":"x","send":{"to":"carol","data":"across again"}}"#)
            #expect((try await carol.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "across again")
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1)
            for client in [alice, bob, carol] { try await client.close() }
        }
        redis.kill()
    }
}
