import Auth
import Foundation
import Node
import Testing
import NodeTestSupport
import TestSupport

/// `switchboard.cluster`, the dashboard's call: admin tokens (or a --dev node) only; every
/// node's snapshot from Redis in a cluster, the node's own without Redis.
@Suite("Cluster stats for the dashboard", .timeLimit(.minutes(2)))
struct ClusterStatsTests {
    private func adminToken(_ user: String) async throws -> String {
        try await TokenAuthenticator(secret: RunningNode.secret).issue(user: user, validFor: .seconds(600), admin: true)
    }

    @Test("a node without Redis answers its own snapshot to an admin, and refuses everyone else")
    func embedded() async throws {
        try await withNode(configure: { $0.statsInterval = .milliseconds(50) }) { node in
            let user = try await node.connect("alice")
            user.send(#"{"id":"s","call":"switchboard.cluster"}"#)
            let refused = try #require(try await user.receiveJSON()["error"] as? [String: Any])
            #expect(refused["code"] as? String == "permission_denied")

            let admin = try await TestWebSocket.connect(url: node.url, token: try await adminToken("ops"))
            let nodes = try await eventually {
                admin.send(#"{"id":"s","call":"switchboard.cluster"}"#)
                let stats = try #require((try await admin.receiveJSON()["ok"] as? [String: Any])?["nodes"] as? [[String: Any]])
                return stats.first?["connections"] as? Int == 2 ? stats : nil
            }
            #expect(nodes.count == 1)
            #expect(nodes[0]["node"] as? String == "node-1")
            #expect(nodes[0]["ready"] as? Bool == true)
            #expect(nodes[0]["redisUp"] is NSNull, "no Redis: neither up nor down")
            try await user.close()
            try await admin.close()
        }
    }

    @Test("the admin claim follows the token the connection holds: refreshed without it, the connection loses it; refreshed with it, gains it")
    func adminFollowsRefresh() async throws {
        try await withNode { node in
            let client = try await TestWebSocket.connect(url: node.url, token: try await adminToken("ops"))
            func cluster(_ id: String) async throws -> [String: Any] {
                client.send(#"{"id":"\#(id)","call":"switchboard.cluster"}"#)
                return try await client.receiveJSON()
            }
            func refresh(_ id: String, admin: Bool) async throws {
                let token = try await TokenAuthenticator(secret: RunningNode.secret).issue(user: "ops", validFor: .seconds(600), admin: admin)
                client.send(#"{"id":"\#(id)","call":"switchboard.refresh","data":{"token":"\#(token)"}}"#)
                #expect(try await client.receiveJSON()["ok"] != nil)
            }
            #expect(try await cluster("a")["ok"] != nil)
            try await refresh("r1", admin: false)
            #expect((try await cluster("b")["error"] as? [String: Any])?["code"] as? String == "permission_denied")
            try await refresh("r2", admin: true)
            #expect(try await cluster("c")["ok"] != nil)
            try await client.close()
        }
    }

    @Test("a --dev node answers anyone; in a cluster every node's snapshot comes from Redis, a stopped node's goes")
    func cluster() async throws {
        try await withCluster(nodes: 2, configure: { $0.dev = true; $0.statsInterval = .milliseconds(50) }) { cluster in
            let watcher = try await cluster.nodes[1].connect("watcher")
            func nodes() async throws -> [String] {
                watcher.send(#"{"id":"s","call":"switchboard.cluster"}"#)
                let stats = try #require((try await watcher.receiveJSON()["ok"] as? [String: Any])?["nodes"] as? [[String: Any]])
                return stats.compactMap { $0["node"] as? String }
            }
            _ = try await eventually { try await nodes() == ["node-1", "node-2"] ? true : nil }
            try await cluster.nodes[0].stop()
            _ = try await eventually { try await nodes() == ["node-2"] ? true : nil }
            try await watcher.close()
        }
    }
}
