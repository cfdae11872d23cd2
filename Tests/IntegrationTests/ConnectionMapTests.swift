import Node
import Presence
import Testing
import NodeTestSupport
import TestSupport

@Suite("The local connection map under load", .tags(.slow), .timeLimit(.minutes(2)))
struct ConnectionMapTests {
    @Test("200 clients connecting and leaving at once leave the map and presence empty")
    func concurrentConnectDisconnect() async throws {
        let presence = InProcessPresenceDirectory()
        try await withNode(presence: presence) { node in
            let users = (0..<40).map { "user-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<200 {
                    group.addTask {
                        let client = try await node.connect(users[n % users.count])
                        client.send(#"{"id":"p","ping":{}}"#)
                        _ = try await client.receiveJSON()
                        try await client.close()
                    }
                }
                try await group.waitForAll()
            }
            try await waitUntil { node.node.connectionCount == 0 }
            for user in users {
                #expect(try await presence.lookup(user: user).isEmpty)
            }
        }
    }

    /// The interval itself is proven on virtual time (`ConnectionPumpTests`); here a real
    /// client's automatic pongs keep it connected while a silent one is closed. The
    /// interval leaves a busy machine seconds to deliver a pong.
    @Test("a client that answers no ping is closed after the ping interval; one that answers stays")
    func idleTimeout() async throws {
        try await withNode(configure: { $0.pingInterval = .seconds(5) }) { node in
            let quiet = try await node.connect("quiet", readPaused: true)
            let lively = try await node.connect("lively")
            try await waitUntil(timeout: .seconds(60)) { node.node.connectionCount == 1 }
            try await waitUntil {
                try await HTTPProbe.get(port: node.port, path: "/metrics").body
                    .contains(#"switchboard_closes_total{node="node-1",reason="ping_timeout"} 1"#)
            }
            lively.send(#"{"id":"still-here","ping":{}}"#)
            #expect(try await lively.receiveJSON()["id"] as? String == "still-here")
            quiet.resumeReading()
            try await lively.close()
        }
    }

    @Test("returning freed memory to the OS every 50 ms does not disturb delivery")
    func memoryTrimWhileServing() async throws {
        try await withNode(configure: {
            $0.memoryTrimInterval = .milliseconds(50)
            $0.clientBurst = 1000  // 500 sends in bursts of 100: a script, not abuse
        }) { node in
            let alice = try await node.connect("alice")
            let bob = try await node.connect("bob")
            for n in 0..<500 {
                alice.send(#"{"send":{"to":"bob","data":\#(n)}}"#)
                if n % 100 == 99 { try await Task.sleep(for: .milliseconds(60)) }
            }
            for n in 0..<500 {
                #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == n)
            }
            try await alice.close()
            try await bob.close()
        }
    }
}
