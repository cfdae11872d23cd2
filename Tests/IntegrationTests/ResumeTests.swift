import GRPCCore
import Logging
import Node
import RedisClient
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// Durable pushes and resume against real nodes and a real Redis (docs/protocol.md §
/// Resume); the scenarios with node processes killed and drained under traffic are
/// `Tests/JavaScript/resume.test.js`, the switch from replay to live is `InboxCursorTests`.
@Suite("Durable pushes and resume", .timeLimit(.minutes(4)))
struct ResumeTests {
    private static let authorized: Metadata = ["authorization": "Bearer \(RunningNode.pushSecret)"]

    private static func push(_ user: String, kind: String, durable: Bool? = nil, _ text: String, port: Int) async throws -> Switchboard_Gateway_V1_PushOutcome {
        try await withGRPCClient(port: port) { client in
            var request = Switchboard_Gateway_V1_PushToUserRequest()
            request.user = user
            request.push.kind = kind
            request.push.data = .init(stringValue: text)
            if let durable { request.durable = durable }
            return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(request, metadata: authorized)
        }
    }

    @Test("durable by kind, or as the Gateway API call asks; an offline user's pushes are stored and replayed, in order, at the next connect")
    func storedForOfflineUser() async throws {
        try await withCluster(nodes: 2, configure: { $0.inbox.durableKinds = ["note"] }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let asked = try await Self.push("olga", kind: "alert", durable: true, "first", port: one.grpcPort)
            #expect(asked.stored && !asked.offline && asked.offset == 1)
            let refused = try await Self.push("olga", kind: "note", durable: false, "not kept", port: one.grpcPort)
            let nobody = try await Self.push("nobody-\(UInt32.random(in: 0...UInt32.max))", kind: "note", "not kept", port: one.grpcPort)
            #expect(nobody.offline && !nobody.stored, "durable by kind keeps nothing for a user who never connected and has no inbox")
            #expect(refused.offline && !refused.stored, "asked not to keep it: an offline user misses it")
            let byKind = try await Self.push("olga", kind: "note", "second", port: two.grpcPort)
            #expect(byKind.stored && byKind.offset == 2 && byKind.epoch == asked.epoch, "both nodes append to the same inbox")

            let olga = try await two.connect("olga", awaitWelcome: false, query: "since=0")
            let welcome = try #require(try await olga.receiveJSON()["welcome"] as? [String: Any])
            let inbox = try #require(welcome["inbox"] as? [String: Any])
            #expect(inbox["resumed"] as? Bool == true)
            #expect(inbox["recovered"] as? Bool == true)
            #expect(inbox["replayed"] as? Int == 2)
            var replayed: [(String, Int)] = []
            for _ in 0..<2 {
                let push = try #require(try await olga.receiveJSON()["push"] as? [String: Any])
                let position = try #require(push["position"] as? [String: Any])
                #expect(position["epoch"] as? String == asked.epoch)
                replayed.append((push["data"] as? String ?? "", position["offset"] as? Int ?? 0))
            }
            #expect(replayed.map(\.0) == ["first", "second"])
            #expect(replayed.map(\.1) == [1, 2])

            // Live from here, through the other node: the next offset.
            _ = try await Self.push("olga", kind: "note", "third", port: one.grpcPort)
            let live = try #require(try await olga.receiveJSON()["push"] as? [String: Any])
            #expect(live["data"] as? String == "third")
            #expect((live["position"] as? [String: Any])?["offset"] as? Int == 3)
            try await olga.close()
        }
    }

    @Test("a connect without a position starts live and learns where the inbox stands; a client's send of a durable kind answers stored")
    func welcomePosition() async throws {
        try await withNode(configure: { $0.inbox.durableKinds = ["note"] }) { node in
            // Pia has never connected: a backend asking for durable by name begins her inbox.
            _ = try await Self.push("pia", kind: "note", durable: true, "before", port: node.grpcPort)
            let pia = try await node.connect("pia", awaitWelcome: false)
            let welcome = try #require(try await pia.receiveJSON()["welcome"] as? [String: Any])
            let inbox = try #require(welcome["inbox"] as? [String: Any])
            #expect(inbox["resumed"] as? Bool == false)
            #expect((inbox["position"] as? [String: Any])?["offset"] as? Int == 1, "nothing replayed; resume from here later")

            let quinn = try await node.connect("quinn")
            quinn.send(#"{"id":"s","send":{"to":"pia","kind":"note","data":{"n":2}}}"#)
            let answer = try #require(try await quinn.receiveJSON()["ok"] as? [String: Any])
            #expect(answer["stored"] as? Bool == true)
            #expect(answer["delivered"] as? Int == 1)
            #expect((answer["position"] as? [String: Any])?["offset"] as? Int == 2)
            let push = try #require(try await pia.receiveJSON()["push"] as? [String: Any])
            #expect((push["position"] as? [String: Any])?["offset"] as? Int == 2)

            // Filling a gap: the pushes after 0 and before 2.
            pia.send(#"{"id":"g","call":"switchboard.inbox","data":{"after":0,"until":2}}"#)
            let gap = try #require(try await pia.receiveJSON()["ok"] as? [String: Any])
            #expect(gap["recovered"] as? Bool == true)
            let pushes = try #require(gap["pushes"] as? [[String: Any]])
            #expect(pushes.map { $0["data"] as? String } == ["before"])
            pia.send(#"{"id":"b","call":"switchboard.inbox","data":{"after":-1}}"#)
            let refused = try #require(try await pia.receiveJSON()["error"] as? [String: Any])
            #expect(refused["code"] as? String == "invalid_argument")
            try await pia.close()
            try await quinn.close()
        }
    }

    @Test("an inbox read answers about 256 KiB at most, saying there is more, and page after page gives every push once, in order")
    func pagedByBytes() async throws {
        try await withCluster(nodes: 1, configure: { $0.inbox.durableKinds = ["note"] }) { cluster in
            let node = cluster.nodes[0]
            let big = String(repeating: "x", count: 60 * 1024)
            for n in 1...10 { _ = try await Self.push("pat", kind: "note", durable: true, "\(n)\(big)", port: node.grpcPort) }
            let pat = try await node.connect("pat")
            var after = 0
            var seen: [Int] = []
            var pages = 0
            while true {
                pat.send(#"{"id":"p\#(pages)","call":"switchboard.inbox","data":{"after":\#(after)}}"#)
                let page = try #require(try await pat.receiveJSON()["ok"] as? [String: Any])
                let pushes = try #require(page["pushes"] as? [[String: Any]])
                pages += 1
                #expect(!pushes.isEmpty && pushes.count <= 5, "60 KiB pushes, 256 KiB a page: \(pushes.count)")
                let offsets = pushes.compactMap { ($0["position"] as? [String: Any])?["offset"] as? Int }
                seen += offsets
                after = offsets.last ?? after
                if page["more"] as? Bool != true { break }
                if pages > 10 { break }
            }
            #expect(seen == Array(1...10))
            #expect(pages >= 3)
            try await pat.close()
        }
    }

    @Test("a resume from a position that was trimmed away says it did not recover, and replays nothing")
    func trimmed() async throws {
        try await withNode(configure: { $0.inbox.durableKinds = ["note"]; $0.inbox.maxLength = 3 }) { node in
            for n in 1...5 { _ = try await Self.push("rita", kind: "note", durable: true, "\(n)", port: node.grpcPort) }
            let rita = try await node.connect("rita", awaitWelcome: false, query: "since=1")
            let inbox = try #require((try await rita.receiveJSON()["welcome"] as? [String: Any])?["inbox"] as? [String: Any])
            #expect(inbox["recovered"] as? Bool == false)
            #expect(inbox["replayed"] as? Int == 0)
            #expect((inbox["position"] as? [String: Any])?["offset"] as? Int == 5)
            let metrics = try await HTTPProbe.get(port: node.port, path: "/metrics").body
            #expect(metrics.contains(#"switchboard_resumes_total{node="node-1",recovered="false"} 1"#))
            try await rita.close()
        }
    }

    @Test("a resume from an inbox that has since begun again says it did not recover and replays the new inbox from its start")
    func inboxBegunAgain() async throws {
        try await withNode(configure: { $0.inbox.durableKinds = ["note"] }) { node in
            let first = try await Self.push("vera", kind: "note", durable: true, "1", port: node.grpcPort)
            _ = try await Self.push("vera", kind: "note", durable: true, "2", port: node.grpcPort)
            // The client last saw offset 7 of an inbox that is gone (Redis lost it, or it
            // expired); both pushes above went to the new one while it was away.
            let vera = try await node.connect("vera", awaitWelcome: false, query: "since=7&epoch=gone")
            let inbox = try #require((try await vera.receiveJSON()["welcome"] as? [String: Any])?["inbox"] as? [String: Any])
            #expect(inbox["recovered"] as? Bool == false, "the old inbox's rest is lost")
            #expect(inbox["replayed"] as? Int == 2)
            let position = try #require(inbox["position"] as? [String: Any])
            #expect(position["epoch"] as? String == first.epoch)
            #expect(position["offset"] as? Int ?? -1 == 0, "the new inbox from its start")
            var replayed: [String] = []
            for _ in 0..<2 { replayed.append(try #require(try await vera.receiveJSON()["push"] as? [String: Any])["data"] as? String ?? "") }
            #expect(replayed == ["1", "2"])
            _ = try await Self.push("vera", kind: "note", durable: true, "3", port: node.grpcPort)
            let live = try #require(try await vera.receiveJSON()["push"] as? [String: Any])
            #expect(live["data"] as? String == "3", "then live, nothing twice")
            try await vera.close()
        }
    }

    @Test("a since that is not an offset is refused before the upgrade with a clear error")
    func badSince() async throws {
        try await withNode { node in
            let token = try await RunningNode.token(for: "sam")
            let response = try await HTTPProbe.upgrade(port: node.port, query: "?since=yesterday", headers: [("Authorization", "Bearer \(token)")])
            #expect(response.status == 400)
            #expect(response.body.contains("since must be an inbox offset"))
        }
    }

    @Test("with Redis gone, a durable push is refused unavailable — never reported stored — and local plain pushes still work")
    func redisDown() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        try await withCluster(nodes: 1, redis: redis, configure: { $0.inbox.durableKinds = ["note"] }) { cluster in
            let node = cluster.nodes[0]
            let tess = try await node.connect("tess")
            let uma = try await node.connect("uma")
            redis.kill()
            uma.send(#"{"id":"d","send":{"to":"tess","kind":"note","data":1}}"#)
            let refused = try #require(try await uma.receiveJSON()["error"] as? [String: Any])
            #expect(refused["code"] as? String == "unavailable")
            #expect((refused["message"] as? String)?.contains("could not be stored") == true)
            uma.send(#"{"id":"p","send":{"to":"tess","kind":"plain","data":2}}"#)
            let push = try #require(try await tess.receiveJSON()["push"] as? [String: Any])
            #expect(push["data"] as? Int == 2)
            #expect(push["position"] == nil)
        }
    }

    @Test("a durable push stored while the node's subscriber is cut off from Redis reaches the connection once the subscriber is back, with no later push to reveal it")
    func caughtUpAfterRelayCut() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        try await withCluster(nodes: 1, redis: redis) { cluster in
            let node = cluster.nodes[0]
            let vera = try await node.connect("vera")
            let before = try await Self.push("vera", kind: "alert", durable: true, "before", port: node.grpcPort)
            #expect(before.stored)
            #expect(try await vera.receiveJSON()["push"].flatMap { ($0 as? [String: Any])?["data"] as? String } == "before")

            // Cut the node's subscriber off while its command connections stay: Redis takes
            // no new client, and the subscriber's connection is killed.
            let probe = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "probe"))
            let clients = (try await probe.send("CLIENT", "LIST").string ?? "").split(whereSeparator: \.isNewline).count
            _ = try await probe.send("CONFIG", "SET", "maxclients", "\(clients - 1)")
            _ = try await probe.send("CLIENT", "KILL", "TYPE", "pubsub")
            let missed = try await Self.push("vera", kind: "alert", durable: true, "while cut", port: node.grpcPort)
            #expect(missed.stored, "stored through the node's command connection")
            _ = try await probe.send("CONFIG", "SET", "maxclients", "10000")

            // Nothing else is pushed: only the catch-up can bring it.
            let caughtUp = try #require(try await vera.receiveJSON()["push"] as? [String: Any])
            #expect(caughtUp["data"] as? String == "while cut")
            #expect((caughtUp["position"] as? [String: Any])?["offset"] as? Int == Int(missed.offset))
            #expect((caughtUp["position"] as? [String: Any])?["epoch"] as? String == missed.epoch)
            // And once: a later push follows it directly.
            _ = try await Self.push("vera", kind: "alert", durable: true, "after", port: node.grpcPort)
            #expect(try await vera.receiveJSON()["push"].flatMap { ($0 as? [String: Any])?["data"] as? String } == "after")
        }
    }

    /// One flooder's durable sends to a user whose inbox holds 20 backend pushes: the
    /// flooder keeps at most its share (a quarter of 40), its own oldest making room, and
    /// every backend push is still there to replay.
    private static func floodKeepsOthers(_ node: RunningNode, user: String) async throws {
        for n in 1...20 { _ = try await push(user, kind: "note", durable: true, "b\(n)", port: node.grpcPort) }
        let flooder = try await node.connect("flooder-of-\(user)")
        for n in 1...60 {
            flooder.send(#"{"id":"m\#(n)","send":{"to":"\#(user)","kind":"note","data":"m\#(n)"}}"#)
            #expect(try await flooder.receiveJSON()["ok"] != nil)
        }
        let victim = try await node.connect(user, awaitWelcome: false, query: "since=0")
        let welcome = try #require(try await victim.receiveJSON()["welcome"] as? [String: Any])
        let inbox = try #require(welcome["inbox"] as? [String: Any])
        let replayed = try #require(inbox["replayed"] as? Int)
        var texts: [String] = []
        for _ in 0..<replayed { texts.append((try await victim.receiveJSON()["push"] as? [String: Any])?["data"] as? String ?? "") }
        #expect(texts.filter { $0.hasPrefix("b") } == (1...20).map { "b\($0)" }, "no backend push was pushed out")
        #expect(texts.filter { $0.hasPrefix("m") } == (51...60).map { "m\($0)" }, "the flooder keeps its newest ten")
        try await victim.close()
        try await flooder.close()
    }

    @Test("one user's durable flood keeps at most a quarter of another's inbox, replacing its own oldest: others' pushes stay (Redis)")
    func floodShareRedis() async throws {
        try await withCluster(nodes: 1, configure: { $0.inbox.durableKinds = ["note"]; $0.inbox.maxLength = 40 }) { cluster in
            try await Self.floodKeepsOthers(cluster.nodes[0], user: "vera-\(UInt32.random(in: 0...UInt32.max))")
        }
    }

    @Test("one user's durable flood keeps at most a quarter of another's inbox, replacing its own oldest: others' pushes stay (one node, no Redis)")
    func floodShareInProcess() async throws {
        try await withNode(configure: { $0.inbox.durableKinds = ["note"]; $0.inbox.maxLength = 40; $0.clientRate = 1000; $0.clientBurst = 1000 }) { node in
            try await Self.floodKeepsOthers(node, user: "wren")
        }
    }

    /// With 100 backend pushes ahead of them, a flooder's entries are not near the head:
    /// at its share (100 of 400) its further sends are delivered live only, never stored.
    private static func floodBeyondReach(_ node: RunningNode, user: String) async throws {
        // One gRPC connection for the 100 pushes: a new one each would cost more than the pushes.
        try await withGRPCClient(port: node.grpcPort) { client in
            let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
            for n in 1...100 {
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = user
                request.push.kind = "note"
                request.push.data = .init(stringValue: "b\(n)")
                request.durable = true
                _ = try await gateway.pushToUser(request, metadata: authorized)
            }
        }
        let flooder = try await node.connect("far-flooder-of-\(user)")
        var stored = 0
        for n in 1...110 {
            flooder.send(#"{"id":"m\#(n)","send":{"to":"\#(user)","kind":"note","data":"m\#(n)"}}"#)
            let reply = try await flooder.receiveJSON()
            if (reply["ok"] as? [String: Any])?["stored"] as? Bool == true { stored += 1 }
        }
        #expect(stored == 100, "its share, and not one more")
        let victim = try await node.connect(user, awaitWelcome: false, query: "since=0")
        let welcome = try #require(try await victim.receiveJSON()["welcome"] as? [String: Any])
        #expect((welcome["inbox"] as? [String: Any])?["replayed"] as? Int == 200)
        try await victim.close()
        try await flooder.close()
    }

    @Test("a flooder at its share with none of its entries near the head: its sends are delivered live only, not stored")
    func floodBeyondReachBothBuses() async throws {
        try await withCluster(nodes: 1, configure: { $0.inbox.durableKinds = ["note"]; $0.inbox.maxLength = 400 }) { cluster in
            try await Self.floodBeyondReach(cluster.nodes[0], user: "yara-\(UInt32.random(in: 0...UInt32.max))")
        }
        try await withNode(configure: { $0.inbox.durableKinds = ["note"]; $0.inbox.maxLength = 400; $0.clientRate = 1000; $0.clientBurst = 1000 }) { node in
            try await Self.floodBeyondReach(node, user: "zoe")
        }
    }
}
