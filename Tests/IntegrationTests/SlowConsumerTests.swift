import Node
import Testing
import TestSupport

@Suite("Slow consumers", .tags(.slow), .timeLimit(.minutes(2)))
struct SlowConsumerTests {
    @Test("a client that stops reading is closed as a slow consumer; another keeps receiving every message")
    func slowConsumerIsClosed() async throws {
        try await withNode(configure: {
            $0.queueMessages = 256
            $0.queueBytes = 256 * 1024
        }) { node in
            let sender = try await node.connect("alice")
            let sloth = try await node.connect("sloth", readPaused: true)
            let fast = try await node.connect("fast")
            try await waitUntil { node.node.connectionCount == 3 }

            // 16 MiB each way: far more than the socket buffers of a client that does not read.
            let count = 4000
            let padding = String(repeating: "p", count: 4096)
            var slothOffline = 0
            for n in 0..<count {
                sender.send(#"{"id":"s\#(n)","send":{"to":"sloth","data":"\#(padding)"}}"#)
                sender.send(#"{"id":"f\#(n)","send":{"to":"fast","data":{"n":\#(n)}}}"#)
                // Keep the sender itself within its own queue limit by reading its replies as we go.
                for _ in 0..<2 {
                    let reply = try await sender.receiveJSON()
                    if (reply["error"] as? [String: Any])?["code"] as? String == "offline" { slothOffline += 1 }
                }
            }

            for n in 0..<count {
                let push = try #require(try await fast.receiveJSON()["push"] as? [String: Any])
                #expect((push["data"] as? [String: Any])?["n"] as? Int == n)
            }
            #expect(slothOffline > 0, "sends to the slow consumer after its close report offline")
            // Once it reads again, the slow client finds what its socket still held, then the end.
            sloth.resumeReading()
            var slothReceived = 0
            while try await sloth.receive() != nil { slothReceived += 1 }
            #expect(slothReceived < count)
            try await waitUntil { node.node.connectionCount == 2 }
            var metrics = ""
            try await waitUntil {
                metrics = try await HTTPProbe.get(port: node.port, path: "/metrics").body
                return !metrics.contains(#"switchboard_closes_total{node="node-1",reason="slow_consumer"} 0"#)
            }
            #expect(metrics.contains(#"switchboard_closes_total{node="node-1",reason="slow_consumer"} 1"#))
            #expect(!metrics.contains(#"switchboard_queue_drops_total{node="node-1"} 0"#))

            try await sender.close()
            try await fast.close()
        }
    }
}
