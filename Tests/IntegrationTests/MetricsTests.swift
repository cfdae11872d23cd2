import Node
import Testing
import NodeTestSupport
import TestSupport

@Suite("Metrics", .tags(.redis), .timeLimit(.minutes(2)))
struct MetricsTests {
    @Test("/metrics counts connections, messages, bad frames, auth failures and closes by reason")
    func countsWhatHappened() async throws {
        try await withNode(configure: { $0.maxFrameBytes = 1024 }) { node in
            _ = try await HTTPProbe.upgrade(port: node.port)  // refused: no token
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob")
            for n in 0..<5 {
                alice.send(#"{"id":"\#(n)","send":{"to":"bob","data":\#(n)}}"#)
                _ = try await alice.receiveJSON()
                _ = try await bob.receiveJSON()
            }
            alice.send("garbage")
            _ = try await alice.receiveJSON()
            bob.send(String(repeating: "x", count: 2000))
            _ = try await bob.closed()
            // Closes are counted once the socket is fully closed.
            var metrics = try await HTTPProbe.get(port: node.port, path: "/metrics")
            try await waitUntil {
                metrics = try await HTTPProbe.get(port: node.port, path: "/metrics")
                return !metrics.body.contains(#"switchboard_closes_total{node="node-1",reason="too_large"} 0"#)
            }
            #expect(metrics.status == 200)
            let lines = Set(metrics.body.split(separator: "\n").map(String.init))
            for expected in [
                #"switchboard_connections{node="node-1"} 1.0"#,
                #"switchboard_connections_opened_total{node="node-1"} 2"#,
                #"switchboard_messages_in_total{node="node-1"} 6"#,
                // 2 welcomes + 5 replies + 5 pushes + 1 error frame
                #"switchboard_messages_out_total{node="node-1"} 13"#,
                #"switchboard_bad_frames_total{node="node-1"} 1"#,
                #"switchboard_auth_failures_total{node="node-1"} 1"#,
                #"switchboard_closes_total{node="node-1",reason="too_large"} 1"#,
            ] {
                #expect(lines.contains(expected), "missing \(expected)")
            }
            #expect(try await HTTPProbe.get(port: node.port, path: "/healthz").status == 200)
            #expect(try await HTTPProbe.get(port: node.port, path: "/readyz").status == 200)
            try await alice.close()
        }
    }

    @Test("with an admin port, /metrics is served there and not on the client port; health on both; nothing else on the admin port")
    func adminPort() async throws {
        try await withNode(configure: { $0.adminPort = 0; $0.adminHost = "127.0.0.1" }) { node in
            let admin = try #require(node.adminPort)
            let alice = try await node.connect("alice")
            let metrics = try await HTTPProbe.get(port: admin, path: "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"switchboard_connections{node="node-1"} 1.0"#))
            let publicMetrics = try await HTTPProbe.get(port: node.port, path: "/metrics")
            #expect(publicMetrics.status == 404)
            #expect(publicMetrics.body.contains("admin port"))
            for path in ["/healthz", "/readyz"] {
                #expect(try await HTTPProbe.get(port: admin, path: path).status == 200)
                #expect(try await HTTPProbe.get(port: node.port, path: path).status == 200)
            }
            #expect(try await HTTPProbe.get(port: admin, path: "/dashboard").status == 404)
            #expect(try await HTTPProbe.get(port: admin, path: "/ws").status == 404)
            try await alice.close()
        }
    }

    @Test("/metrics counts relayed pushes on both nodes, readiness and Redis health, and relay errors when Redis is gone")
    func relayAndRedisHealth() async throws {
        let redis = try await RedisServer.start()
        try await withCluster(nodes: 2, redis: redis) { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")
            for n in 0..<3 {
                alice.send(#"{"id":"\#(n)","send":{"to":"bob","data":\#(n)}}"#)
                _ = try await bob.receiveJSON()
                _ = try await alice.receiveJSON()
            }
            func lines(_ node: RunningNode) async throws -> Set<String> {
                Set(try await HTTPProbe.get(port: node.port, path: "/metrics").body.split(separator: "\n").map(String.init))
            }
            let sender = try await lines(cluster.nodes[0])
            let receiver = try await lines(cluster.nodes[1])
            for expected in [#"switchboard_relay_out_total{node="node-1"} 3"#, #"switchboard_ready{node="node-1"} 1.0"#, #"switchboard_redis_up{node="node-1"} 1.0"#] {
                #expect(sender.contains(expected), "missing \(expected)")
            }
            #expect(receiver.contains(#"switchboard_relay_in_total{node="node-2"} 3"#))

            redis.kill()
            try await waitUntil { !cluster.nodes[0].node.isReady }
            alice.send(#"{"id":"x","send":{"to":"bob","data":"lost"}}"#)
            #expect(((try await alice.receiveJSON()["error"] as? [String: Any])?["code"] as? String) == "unavailable")
            let down = try await lines(cluster.nodes[0])
            for expected in [#"switchboard_relay_errors_total{node="node-1"} 1"#, #"switchboard_ready{node="node-1"} 0.0"#, #"switchboard_redis_up{node="node-1"} 0.0"#] {
                #expect(down.contains(expected), "missing \(expected)")
            }
            try await alice.close()
            try await bob.close()
        }
    }
}
