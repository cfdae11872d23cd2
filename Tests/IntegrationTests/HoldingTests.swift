import Logging
import Node
import RedisClient
import Testing
import NodeTestSupport
import TestSupport

/// Pushes to a user held by one node only need no PUBLISH; once another node holds the
/// user too, every push reaches it (the holders learned of each other before its welcome).
// Four minutes, as the other suites of several real nodes: a busy fresh-clone run (one core
// kept busy, the whole suite alongside) took over two for the eight reconnect rounds below.
@Suite("Routing without Redis for users held by one node", .tags(.redis, .process), .timeLimit(.minutes(4)))
struct HoldingTests {
    /// PUBLISH commands Redis has run so far.
    private func publishes(_ redis: RedisConnection) async throws -> Int {
        try await redis.commandCalls("publish")
    }

    private func sendAndReply(_ from: TestWebSocket, to user: String, id: String) async throws -> [String: Any] {
        from.send(#"{"id":""# + id + #"","send":{"to":""# + user + #"","data":{"n":""# + id + #""}}}"#)
        while true {
            let frame = try await from.receiveJSON()
            if frame["id"] as? String == id { return try #require(frame["ok"] as? [String: Any]) }
        }
    }

    @Test("same-node pushes publish nothing; a second node's connection gets every push after its welcome; after it leaves, nothing is published again")
    func holdersLearnOfEachOther() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let probe = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "probe"))
        defer { probe.close() }
        try await withCluster(nodes: 2, redis: redis) { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[0].connect("bob")
            let before = try await publishes(probe)
            for n in 0..<50 {
                let ok = try await sendAndReply(alice, to: "bob", id: "s\(n)")
                #expect(ok["delivered"] as? Int == 1)
                #expect(ok["relayedNodes"] as? Int == 0)
            }
            #expect(try await publishes(probe) == before, "bob is held by node 0 alone: no PUBLISH")
            for n in 0..<50 { #expect((try await bob.receiveJSON()["push"] as? [String: Any]) != nil, "push \(n)") }

            let phone = try await cluster.nodes[1].connect("bob")
            let ok = try await sendAndReply(alice, to: "bob", id: "both")
            #expect(ok["delivered"] as? Int == 1)
            #expect(ok["relayedNodes"] as? Int == 1, "the push right after the phone's welcome reaches node 1")
            #expect(((try await phone.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? String == "both")
            #expect(((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? String == "both")

            try await phone.close()
            var round = 0
            try await waitUntil {
                round += 1
                return try await sendAndReply(alice, to: "bob", id: "after\(round)")["relayedNodes"] as? Int == 0
            }
            // The LEFT may arrive after the publish that found node 1 gone; give it a moment to settle.
            try await waitUntil {
                let start = try await publishes(probe)
                _ = try await sendAndReply(alice, to: "bob", id: "quiet\(round)")
                round += 1
                return try await publishes(probe) == start
            }
            for client in [alice, bob] { try await client.close() }
        }
    }

    @Test("a node subscribes to each held user's channel once: a user who reconnects again and again gets every push sent after each welcome once, in order")
    func oneSubscriptionPerUser() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let probe = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "probe"))
        defer { probe.close() }
        try await withCluster(nodes: 2, redis: redis) { cluster in
            let alice = try await cluster.nodes[1].connect("alice")
            let channel = "\(cluster.prefix)relay:user:bob"
            for round in 0..<8 {
                let bob = try await cluster.nodes[0].connect("bob")
                let subscriptions = try await probe.send("PUBSUB", "NUMSUB", channel).array?.last?.integer
                #expect(subscriptions == 1, "round \(round): one subscription to bob's channel, node 0's")
                for n in 0..<20 {
                    let ok = try await sendAndReply(alice, to: "bob", id: "r\(round)-\(n)")
                    #expect(ok["relayedNodes"] as? Int == 1)
                }
                var seen: [String] = []
                while seen.count < 20 {
                    let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
                    seen.append(try #require((push["data"] as? [String: Any])?["n"] as? String))
                }
                #expect(seen == (0..<20).map { "r\(round)-\($0)" }, "round \(round): every push once, in order")
                // Nothing more arrives (a second subscriber would have delivered each push twice).
                _ = try await sendAndReply(alice, to: "bob", id: "r\(round)-end")
                let last = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
                #expect((last["data"] as? [String: Any])?["n"] as? String == "r\(round)-end")
                try await bob.close()
            }
            try await alice.close()
        }
    }
}
