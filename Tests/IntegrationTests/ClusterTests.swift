import Foundation
import GRPCCore
import NIOWebSocket
import Node
import RedisClient
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport
import WSCore

@Suite("A cluster of nodes sharing Redis", .tags(.redis), .timeLimit(.minutes(2)))
struct ClusterTests {
    @Test("send crosses nodes, and the reply says it was relayed")
    func crossNodeSend() async throws {
        try await withCluster { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")
            alice.send(#"{"id":"1","send":{"to":"bob","data":{"text":"across"}}}"#)
            let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
            #expect(push["from"] as? String == "alice")
            #expect((push["data"] as? [String: Any])?["text"] as? String == "across")
            let ok = try #require(try await alice.receiveJSON()["ok"] as? [String: Any])
            #expect(ok["delivered"] as? Int == 0)
            #expect(ok["relayedNodes"] as? Int == 1)
            try await alice.close()
            try await bob.close()
        }
    }

    @Test("a backend pushes through node 3 to a user on node 1; presence is the same from every node")
    func pushThroughAnyNode() async throws {
        try await withCluster { cluster in
            let carol = try await cluster.nodes[0].connect("carol")
            try await withGRPCClient(port: cluster.nodes[2].grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var metadata = Metadata()
                metadata.addString("Bearer \(RunningNode.pushSecret)", forKey: "authorization")
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = "carol"
                request.push.kind = "alert"
                let outcome = try await gateway.pushToUser(request, metadata: metadata)
                #expect(outcome.relayedNodes == 1)
                #expect(!outcome.offline)
            }
            #expect((try await carol.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "alert")

            var seen: Set<[String]> = []
            for node in cluster.nodes {
                let asker = try await node.connect("asker")
                asker.send(#"{"id":"p","presence":{"user":"carol"}}"#)
                let connections = try #require((try await asker.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]])
                seen.insert(connections.map { "\($0["id"] ?? "")@\($0["node"] ?? "")" })
                try await asker.close()
            }
            #expect(seen.count == 1, "\(seen)")
            #expect(seen.first?.count == 1)
            #expect(seen.first?.first?.hasSuffix("@node-1") == true)
            try await carol.close()
        }
    }

    @Test("a user on two nodes gets a push on both")
    func userOnTwoNodes() async throws {
        try await withCluster { cluster in
            let phone = try await cluster.nodes[0].connect("dave")
            let laptop = try await cluster.nodes[1].connect("dave")
            let sender = try await cluster.nodes[2].connect("erin")
            sender.send(#"{"id":"s","send":{"to":"dave","data":"both"}}"#)
            #expect((try await phone.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "both")
            #expect((try await laptop.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "both")
            #expect((try await sender.receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 2)
            for client in [phone, laptop, sender] { try await client.close() }
        }
    }

    @Test("10,000 messages from one node to a user on another arrive complete and in order")
    func orderedStream() async throws {
        // A queue for the whole stream: this test is about order and completeness, and a
        // test client on a loaded machine may fall far behind (the slow-consumer tests
        // cover what happens then).
        // No rate limit either: a stream, not abuse (the rate limit has tests of its own).
        try await withCluster(nodes: 2, configure: {
            $0.queueMessages = 16_384
            $0.clientRate = 1_000_000
            $0.clientBurst = 1_000_000
        }) { cluster in
            let sender = try await cluster.nodes[0].connect("fay")
            let receiver = try await cluster.nodes[1].connect("gus")
            let total = 10_000
            let sending = Task {
                for n in 0..<total {
                    sender.send(#"{"send":{"to":"gus","data":\#(n)}}"#)
                    if n % 500 == 499 { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            for n in 0..<total {
                let push = try #require(try await receiver.receiveJSON(timeout: .seconds(20))["push"] as? [String: Any])
                #expect(push["data"] as? Int == n)
                if push["data"] as? Int != n { break }
            }
            try await sending.value
            try await sender.close()
            try await receiver.close()
        }
    }

    @Test("a broadcast reaches every connection on every node exactly once")
    func broadcastOnce() async throws {
        try await withCluster { cluster in
            var clients: [TestWebSocket] = []
            for (index, node) in cluster.nodes.enumerated() {
                for n in 0..<3 { clients.append(try await node.connect("u\(index)-\(n)")) }
            }
            try await withGRPCClient(port: cluster.nodes[1].grpcPort) { client in
                var metadata = Metadata()
                metadata.addString("Bearer \(RunningNode.pushSecret)", forKey: "authorization")
                var request = Switchboard_Gateway_V1_BroadcastRequest()
                request.push.kind = "news"
                let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).broadcast(request, metadata: metadata)
                #expect(outcome.deliveredLocal == 3)
                #expect(outcome.relayedNodes == 2)
            }
            for client in clients {
                #expect((try await client.receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "news")
            }
            try await Task.sleep(for: .milliseconds(300))
            for client in clients {
                client.send(#"{"id":"after","ping":{}}"#)
                #expect(try await client.receiveJSON()["id"] as? String == "after", "no second copy of the broadcast")
            }
            for client in clients { try await client.close() }
        }
    }

    @Test("DisconnectUser through one node closes the user's connections on every node with 4003, and leaves others alone")
    func disconnectAcrossNodes() async throws {
        try await withCluster { cluster in
            let ivy2 = try await cluster.nodes[1].connect("ivy")
            let ivy3 = try await cluster.nodes[2].connect("ivy")
            let jo = try await cluster.nodes[1].connect("jo")
            try await withGRPCClient(port: cluster.nodes[0].grpcPort) { client in
                var request = Switchboard_Gateway_V1_DisconnectUserRequest()
                request.user = "ivy"
                request.reason = "password changed"
                let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                    .disconnectUser(request, metadata: ["authorization": "Bearer \(RunningNode.pushSecret)"])
                #expect(outcome.closedLocal == 0)
                #expect(outcome.relayedNodes == 2)
            }
            for ivy in [ivy2, ivy3] {
                let close = try await ivy.closed()
                #expect(close?.closeCode == .init(codeNumber: 4003))
                #expect(close?.reason == "password changed")
            }
            jo.send(#"{"id":"still","ping":{}}"#)
            #expect(try await jo.receiveJSON()["id"] as? String == "still")
            try await jo.close()
        }
    }
}
