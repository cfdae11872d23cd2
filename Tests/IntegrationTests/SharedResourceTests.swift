import Foundation
import Logging
import Node
import RedisBackplane
import RedisClient
import Testing
import NodeTestSupport
import TestSupport

/// What one account can make the cluster keep for it: black-box, through the client
/// port, with the reference backends and a real Redis (docs/security.md).
@Suite("No user can exhaust what others share", .tags(.redis), .timeLimit(.minutes(4)))
struct SharedResourceTests {
    @Test("chat.send to made-up names keeps no inbox for them in Redis, while a real user who is away gets what was sent, at the next connect")
    func madeUpNamesGetNoInbox() async throws {
        let redis = try await RedisServer.shared()
        let prefix = "ghost\(UInt32.random(in: 0...UInt32.max)):"
        try await withNodeAndBackends(configure: {
            $0.redis = BackplaneEndpoint(redis: redis.endpoint)
            $0.redisPrefix = prefix
            $0.redisTimeout = .seconds(60)
        }) { system in
            let node = system.node
            // A real user: connected once (that begins the inbox), then away.
            let away = try await node.connect("away-user", awaitWelcome: false)
            let welcome = try #require(try await away.receiveJSON()["welcome"] as? [String: Any])
            let start = try #require((welcome["inbox"] as? [String: Any])?["position"] as? [String: Any])
            let epoch = try #require(start["epoch"] as? String)
            #expect(!epoch.isEmpty, "a connect begins the user's inbox")
            try await away.close()

            let sender = try await node.connect("flooder")
            for n in 0..<40 {
                sender.send(#"{"id":"\#(n)","call":"chat.send","data":{"to":"ghost-\#(n)","text":"hello \#(n)"}}"#)
                let answer = try await sender.receiveJSON()
                #expect(answer["ok"] != nil, "chat.send to ghost-\(n): \(answer)")
            }
            sender.send(#"{"id":"real","call":"chat.send","data":{"to":"away-user","text":"while you were away"}}"#)
            #expect(try await sender.receiveJSON()["ok"] != nil)

            // Nothing under the cluster's prefix names a ghost.
            let connection = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "shared-resource-test"))
            defer { connection.close() }
            let keys = try await connection.send("KEYS", "\(prefix)*").array?.compactMap(\.string) ?? []
            #expect(!keys.isEmpty, "the real users' keys are there: the pattern matches")
            #expect(keys.filter { $0.contains("ghost-") } == [], "keys kept for made-up names")

            // The real user resumes from where it was and gets the message.
            let back = try await node.connect("away-user", awaitWelcome: false, query: "since=0&epoch=\(epoch)")
            let resumed = try #require((try await back.receiveJSON()["welcome"] as? [String: Any])?["inbox"] as? [String: Any])
            #expect(resumed["recovered"] as? Bool == true)
            #expect(resumed["replayed"] as? Int == 1)
            let push = try #require(try await back.receiveJSON()["push"] as? [String: Any])
            #expect((push["data"] as? [String: Any])?["text"] as? String == "while you were away")
            try await back.close()
            try await sender.close()
        }
    }

    @Test("the calls a node answers itself (switchboard.inbox, .refresh, .cluster) count against the per-connection call cap")
    func nodeCallsAreCapped() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let pid = try #require(redis.processIdentifier)
        try await withCluster(nodes: 1, redis: redis, configure: { $0.maxCallsPerConnection = 2; $0.dev = true }) { cluster in
            let client = try await cluster.nodes[0].connect("capped")
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            // Two inbox reads wait on the stopped Redis; everything after them is over the cap.
            client.send(#"{"id":"a","call":"switchboard.inbox","data":{"after":0}}"#)
            client.send(#"{"id":"b","call":"switchboard.inbox","data":{"after":0}}"#)
            let token = try await RunningNode.token(for: "capped")
            for (id, call) in [("c", #""switchboard.inbox","data":{"after":0}"#), ("r", #""switchboard.refresh","data":{"token":"\#(token)"}"#),
                               ("s", #""switchboard.cluster""#)] {
                client.send(#"{"id":"\#(id)","call":\#(call)}"#)
                let answer = try await client.receiveJSON()
                #expect(answer["id"] as? String == id)
                #expect((answer["error"] as? [String: Any])?["code"] as? String == "busy", "\(id): \(answer)")
            }
            kill(pid, SIGCONT)
            var answered: Set<String> = []
            for _ in 0..<2 {
                let answer = try await client.receiveJSON(timeout: .seconds(120))
                #expect(answer["ok"] != nil, "\(answer)")
                answered.insert(answer["id"] as? String ?? "")
            }
            #expect(answered == ["a", "b"])
            // Given back: the cap admits calls again.
            client.send(#"{"id":"d","call":"switchboard.refresh","data":{"token":"\#(token)"}}"#)
            #expect(try await client.receiveJSON()["ok"] != nil)
            try await client.close()
        }
    }

    @Test("a user reconnecting in a loop is refused 429 too_many_connects past its rate, before the upgrade; other users connect")
    func connectRate() async throws {
        try await withNode(configure: { $0.userConnectsPerMinute = 3 }) { node in
            for _ in 0..<3 { try await node.connect("looping").close() }
            // A token comes back every 20 s: however slow the machine, a few more attempts
            // in a row find the bucket empty.
            let token = try await RunningNode.token(for: "looping")
            var refused = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")])
            for _ in 0..<10 where refused.status != 429 {
                refused = try await HTTPProbe.upgrade(port: node.port, headers: [("Authorization", "Bearer \(token)")])
            }
            #expect(refused.status == 429)
            #expect(refused.body.contains("too_many_connects"))
            #expect(refused.body.contains("more than 3 times in a minute"))
            let metrics = try await HTTPProbe.get(port: node.port, path: "/metrics").body
            #expect(metrics.contains(#"limit="user_connects""#))
            try await node.connect("someone-else").close()
        }
    }
}
