import Foundation
import GRPCCore
import Logging
import Node
import RedisClient
import SwiftProtobuf
import Routing
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// Topics on real nodes and a real Redis: fan-out to every subscriber exactly once, a
/// Redis channel per topic subscribed only by the nodes with a subscriber, and each
/// namespace's rules.
@Suite("Topics", .tags(.redis, .process), .timeLimit(.minutes(3)))
struct TopicTests {
    static func open(_ configuration: inout NodeConfiguration) {
        configuration.topicNamespaces = try! TopicNamespaces(
            parsing: "room:subscribe=any,publish=any;quiet:subscribe=any,publish=any,echo=off;match:subscribe=claim,publish=none;"
                + "lobby:subscribe=any,publish=any,joins=on;seen:subscribe=any,publish=any,presence=on;secret:subscribe=claim,presence=on;"
                + "news:subscribe=any,publish=any,history=100;short:subscribe=any,publish=any,history=3;"
                + "long:subscribe=any,publish=any,history=1000"
        )
    }

    /// Sends `frame` with `id` and returns the answer to it (`ok` or `error`), failing on a
    /// push meanwhile: the sockets these are used on expect none.
    @discardableResult
    private func request(_ socket: TestWebSocket, _ id: String, _ body: String) async throws -> [String: Any] {
        socket.send(#"{"id":"\#(id)",\#(body)}"#)
        let frame = try await socket.receiveJSON()
        #expect(frame["id"] as? String == id, "expected the answer to \(id), got \(frame)")
        return frame
    }

    private func subscribe(_ socket: TestWebSocket, _ topic: String, on node: RunningNode) async throws {
        let answer = try await request(socket, "sub-\(topic)", #""subscribe":{"topic":"\#(topic)"}"#)
        #expect((answer["ok"] as? [String: Any])?["topic"] as? String == topic, "\(answer)")
        // The answer waits at most 2 s for the other interested nodes; past that on a busy
        // machine a publish right after could miss this node for a reason not tested here.
        try await waitUntil { node.node.relaysReach(topic: topic) }
    }

    private func publish(_ socket: TestWebSocket, _ topic: String, _ n: Int, kind: String = "message") async throws -> [String: Any] {
        let answer = try await request(socket, "pub-\(n)", #""publish":{"topic":"\#(topic)","kind":"\#(kind)","data":{"n":\#(n)}}"#)
        return try #require(answer["ok"] as? [String: Any], "\(answer)")
    }

    private func errorCode(_ answer: [String: Any]) -> String? {
        (answer["error"] as? [String: Any])?["code"] as? String
    }

    /// Subscribers of `channel` in Redis (PUBSUB NUMSUB).
    private func numsub(_ redis: RedisConnection, _ channel: String) async throws -> Int {
        let reply = try await redis.send("PUBSUB", "NUMSUB", channel)
        return reply.array?.last?.integer.map { Int($0) } ?? -1
    }

    @Test("a publish reaches every subscriber on three nodes exactly once, in order; only nodes with a subscriber subscribe to the topic's channel, and a node without one receives nothing")
    func fanOutAcrossNodes() async throws {
        try await withCluster(nodes: 3, configure: Self.open) { cluster in
            let probe = RedisConnection(endpoint: cluster.redis.endpoint, logger: Logger(label: "probe"))
            defer { probe.close() }
            let channel = "\(cluster.prefix)relay:topic:room:1"
            let (one, two, three) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
            let a1 = try await one.connect("ann")
            let a2 = try await one.connect("amy")
            let b = try await two.connect("bob")
            let publisher = try await three.connect("cat")
            for (socket, node) in [(a1, one), (a2, one), (b, two)] { try await subscribe(socket, "room:1", on: node) }
            #expect(try await numsub(probe, channel) == 2, "nodes 1 and 2 subscribe, once each; node 3 has no subscriber")
            #expect(try await one.metricValue("switchboard_topics") == 1)
            #expect(try await one.metricValue("switchboard_topic_subscriptions") == 2)

            for n in 0..<20 {
                let ok = try await publish(publisher, "room:1", n)
                #expect(ok["delivered"] as? Int == 0)
                #expect(ok["relayedNodes"] as? Int == 2)
            }
            _ = try await publish(publisher, "room:1", 999)
            for socket in [a1, a2, b] {
                for n in [Array(0..<20), [999]].joined() {
                    let push = try #require(try await socket.receiveJSON()["push"] as? [String: Any])
                    #expect(push["topic"] as? String == "room:1")
                    #expect(push["from"] as? String == "cat")
                    #expect(push["origin"] as? String == "user")
                    #expect((push["data"] as? [String: Any])?["n"] as? Int == n, "in order, none twice")
                }
            }
            #expect(try await three.metricValue("switchboard_relay_in_total") == 0, "node 3 has no subscriber and received nothing")

            // Unsubscribing bob leaves node 2 without interest: it unsubscribes the channel.
            let answer = try await request(b, "u1", #""unsubscribe":{"topic":"room:1"}"#)
            #expect((answer["ok"] as? [String: Any])?["wasSubscribed"] as? Bool == true)
            try await waitUntil { try await numsub(probe, channel) == 1 }
            // Node 3 may still publish before node 2's LEFT reaches it; its answer then counts node 2.
            try await waitUntil { try await publish(publisher, "room:1", 1000)["relayedNodes"] as? Int == 1 }
            // A subscriber that disconnects is unsubscribed too.
            try await a1.close()
            try await a2.close()
            try await waitUntil { try await numsub(probe, channel) == 0 }
            try await waitUntil { try await one.metricValue("switchboard_topics") == 0 }
            for client in [b, publisher] { try await client.close() }
        }
    }

    @Test("a topic whose subscribers are all on the publisher's node costs no PUBLISH; once another node subscribes, the next publish reaches it")
    func localTopicPublishesNothing() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let probe = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "probe"))
        defer { probe.close() }
        try await withCluster(nodes: 2, redis: redis, configure: Self.open) { cluster in
            let subscriber = try await cluster.nodes[0].connect("sue")
            let publisher = try await cluster.nodes[0].connect("pat")
            try await subscribe(subscriber, "room:7", on: cluster.nodes[0])
            let before = try await probe.commandCalls("publish")
            for n in 0..<30 {
                let ok = try await publish(publisher, "room:7", n)
                #expect(ok["delivered"] as? Int == 1)
                #expect(ok["relayedNodes"] as? Int == 0)
            }
            #expect(try await probe.commandCalls("publish") == before, "only node 1 is interested in room:7: nothing published")
            for n in 0..<30 { #expect(((try await subscriber.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? Int == n) }

            let remote = try await cluster.nodes[1].connect("rex")
            try await subscribe(remote, "room:7", on: cluster.nodes[1])
            let ok = try await publish(publisher, "room:7", 100)
            #expect(ok["relayedNodes"] as? Int == 1, "the publish right after node 2's subscribe answer reaches it")
            #expect(((try await remote.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? Int == 100)
            for client in [subscriber, publisher, remote] { try await client.close() }
        }
    }


    @Test("namespace rules: echo off skips only the publisher; a claim grants what it names; none leaves publishing to backends; a topic in no namespace, a bad name, a reserved kind and the per-connection limit are refused with clear errors")
    func rules() async throws {
        try await withCluster(nodes: 1, configure: {
            Self.open(&$0)
            $0.topicsPerConnection = 3
        }) { cluster in
            let node = cluster.nodes[0]
            let ann = try await node.connect("ann")
            let bob = try await node.connect("bob")
            // echo=off: bob, another subscriber, gets ann's message; ann does not.
            try await subscribe(ann, "quiet:1", on: node)
            try await subscribe(bob, "quiet:1", on: node)
            let ok = try await publish(ann, "quiet:1", 1)
            #expect(ok["delivered"] as? Int == 1)
            #expect(((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? Int == 1)
            // echo on (room): the publisher gets its own message back.
            try await subscribe(ann, "room:2", on: node)
            ann.send(#"{"id":"echo","publish":{"topic":"room:2","data":{"n":2}}}"#)
            let first = try await ann.receiveJSON(), second = try await ann.receiveJSON()
            #expect(((first["push"] as? [String: Any])?["data"] as? [String: Any])?["n"] as? Int == 2, "delivered here before the answer")
            #expect((second["ok"] as? [String: Any])?["delivered"] as? Int == 1)

            // claim: only a token naming the topic (or a prefix of it) may subscribe.
            #expect(errorCode(try await request(bob, "c1", #""subscribe":{"topic":"match:9"}"#)) == "permission_denied")
            let fan = try await node.connect("fan", topics: ["match:*"])
            try await subscribe(fan, "match:9", on: node)
            // publish=none: no client publishes, whatever its claim.
            #expect(errorCode(try await request(fan, "c2", #""publish":{"topic":"match:9","data":1}"#)) == "permission_denied")

            for (n, topic) in ["nowhere:1", "room", ":1", "room:a b", "room:*", "room:{x}", "room:" + String(repeating: "x", count: 300)].enumerated() {
                #expect(errorCode(try await request(bob, "bad\(n)", #""subscribe":{"topic":"\#(topic)"}"#)) == "invalid_argument", "\(topic)")
                #expect(errorCode(try await request(bob, "badp\(n)", #""publish":{"topic":"\#(topic)","data":1}"#)) == "invalid_argument", "\(topic)")
            }
            #expect(errorCode(try await request(bob, "k", #""publish":{"topic":"room:2","kind":"system.alert","data":1}"#)) == "invalid_argument")

            // ann holds quiet:1 and room:2; a repeated subscribe does not count twice; the limit is 3.
            try await subscribe(ann, "room:2", on: node)
            try await subscribe(ann, "room:3", on: node)
            let refused = try await request(ann, "l", #""subscribe":{"topic":"room:4"}"#)
            #expect(errorCode(refused) == "limit_exceeded", "\(refused)")
            _ = try await request(ann, "u", #""unsubscribe":{"topic":"room:3"}"#)
            try await subscribe(ann, "room:4", on: node)
            let again = try await request(ann, "u2", #""unsubscribe":{"topic":"room:3"}"#)
            #expect((again["ok"] as? [String: Any])?["wasSubscribed"] as? Bool == false)
            for client in [ann, bob, fan] { try await client.close() }
        }
    }

    @Test("topic presence lists who is subscribed on every node, users with their connections; unsubscribe and disconnect take them out; only where the namespace keeps it, for clients that may subscribe; backends read it through the Gateway API")
    func topicPresence() async throws {
        try await withCluster(nodes: 2, configure: Self.open) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let ann1 = try await one.connect("ann")
            let ann2 = try await two.connect("ann")
            let bob = try await two.connect("bob")
            let cat = try await one.connect("cat")
            for (socket, node) in [(ann1, one), (ann2, two), (bob, two)] { try await subscribe(socket, "seen:1", on: node) }

            func members(_ id: String) async throws -> (users: [String: [String]], count: Int?) {
                let answer = try await request(cat, id, #""presence":{"topic":"seen:1"}"#)
                let ok = try #require(answer["ok"] as? [String: Any], "\(answer)")
                #expect(ok["topic"] as? String == "seen:1")
                var users: [String: [String]] = [:]
                for user in ok["users"] as? [[String: Any]] ?? [] {
                    users[user["user"] as? String ?? "?"] = (user["connections"] as? [[String: Any]] ?? []).compactMap { $0["node"] as? String }.sorted()
                }
                return (users, ok["count"] as? Int)
            }
            let all = try await members("p1")
            #expect(all.users == ["ann": ["node-1", "node-2"], "bob": ["node-2"]])
            #expect(all.count == 3)

            _ = try await request(bob, "u1", #""unsubscribe":{"topic":"seen:1"}"#)
            #expect(try await members("p2").users == ["ann": ["node-1", "node-2"]], "withdrawn before the unsubscribe is answered")
            try await ann2.close()
            try await waitUntil { try await members("p3").count == 1 }

            try await withGRPCClient(port: two.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var ask = Switchboard_Gateway_V1_GetTopicPresenceRequest()
                ask.topic = "seen:1"
                let found = try await gateway.getTopicPresence(ask, metadata: Self.authorized)
                #expect(found.total == 1)
                #expect(found.subscribers.map { "\($0.user) \($0.node)" } == ["ann node-1"])
                ask.topic = "room:1"
                let error = await #expect(throws: RPCError.self) { try await gateway.getTopicPresence(ask, metadata: Self.authorized) }
                #expect(error?.code == .failedPrecondition)
            }

            let none = try await request(cat, "p4", #""presence":{"topic":"room:1"}"#)
            #expect(errorCode(none) == "invalid_argument")
            #expect("\(none)".contains("presence=on"))
            #expect(errorCode(try await request(cat, "p5", #""presence":{"topic":"secret:1"}"#)) == "permission_denied", "asking needs the right to subscribe")
            #expect(errorCode(try await request(cat, "p6", #""presence":{"topic":"seen:1","user":"ann"}"#)) == "invalid_argument")
            for socket in [ann1, bob, cat] { try await socket.close() }
        }
    }

    /// A push's topic and offset, failing on any other frame.
    private func topicPush(_ socket: TestWebSocket) async throws -> (topic: String?, offset: Int?, n: Int?) {
        let frame = try await socket.receiveJSON()
        let push = try #require(frame["push"] as? [String: Any], "expected a push, got \(frame)")
        let position = push["position"] as? [String: Any]
        return (push["topic"] as? String, position?["offset"] as? Int, (push["data"] as? [String: Any])?["n"] as? Int)
    }

    @Test("history: publishes are stored with positions; a subscriber coming back on another node with its position gets what it missed, in order, then live; a wrong epoch or a trimmed history is not recovered")
    func history() async throws {
        try await withCluster(nodes: 2, configure: Self.open) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let ann = try await one.connect("ann")
            let bob = try await two.connect("bob")
            let first = try #require(try await request(ann, "s1", #""subscribe":{"topic":"news:1"}"#)["ok"] as? [String: Any])
            let start = try #require(first["position"] as? [String: Any])
            let epoch = try #require(start["epoch"] as? String)
            #expect(start["offset"] as? Int == 0)
            #expect(first["replayed"] as? Int == 0)
            #expect(first["recovered"] == nil, "no since, nothing to recover")
            try await waitUntil { one.node.relaysReach(topic: "news:1") }

            for n in 1...5 {
                let ok = try await publish(bob, "news:1", n)
                #expect(ok["stored"] as? Bool == true)
                #expect((ok["position"] as? [String: Any])?["offset"] as? Int == n)
                #expect(ok["relayedNodes"] as? Int == 1)
            }
            for n in 1...5 {
                let push = try await topicPush(ann)
                #expect(push.topic == "news:1" && push.offset == n && push.n == n)
            }
            try await ann.close()
            for n in 6...8 { _ = try await publish(bob, "news:1", n) }

            // Back on node 2, having seen up to 2 (say): 3…8 replayed after the answer.
            let back = try await two.connect("ann")
            let resumed = try #require(try await request(back, "s2", #""subscribe":{"topic":"news:1","since":{"epoch":"\#(epoch)","offset":2}}"#)["ok"] as? [String: Any])
            #expect(resumed["recovered"] as? Bool == true)
            #expect(resumed["replayed"] as? Int == 6)
            #expect((resumed["position"] as? [String: Any])?["offset"] as? Int == 2)
            for n in 3...8 { #expect(try await topicPush(back).offset == n) }
            _ = try await publish(bob, "news:1", 9)
            #expect(try await topicPush(back).offset == 9, "then live, none twice")

            let stranger = try await one.connect("cat")
            let wrong = try #require(try await request(stranger, "s3", #""subscribe":{"topic":"news:1","since":{"epoch":"other","offset":4}}"#)["ok"] as? [String: Any])
            #expect(wrong["recovered"] as? Bool == false)
            #expect(wrong["replayed"] as? Int == 0)
            #expect((wrong["position"] as? [String: Any])?["offset"] as? Int == 9, "live from where the history stands")

            // history=3: a position before the kept three is not recovered.
            #expect(try await request(stranger, "s4", #""subscribe":{"topic":"short:1"}"#)["ok"] != nil)
            try await waitUntil { one.node.relaysReach(topic: "short:1") }
            for n in 1...6 { _ = try await publish(bob, "short:1", n) }
            for n in 1...6 { #expect(try await topicPush(stranger).offset == n) }
            let shortEpoch = try #require(((try await publish(bob, "short:1", 7))["position"] as? [String: Any])?["epoch"] as? String)
            #expect(try await topicPush(stranger).offset == 7)
            let late = try await two.connect("dan")
            let trimmed = try #require(try await request(late, "s5", #""subscribe":{"topic":"short:1","since":{"epoch":"\#(shortEpoch)","offset":2}}"#)["ok"] as? [String: Any])
            #expect(trimmed["recovered"] as? Bool == false, "3 and 4 were trimmed")
            let kept = try #require(try await request(late, "s6", #""subscribe":{"topic":"short:2","since":{"epoch":"\#(shortEpoch)","offset":0}}"#)["ok"] as? [String: Any])
            #expect(kept["recovered"] as? Bool == false, "another topic's epoch")

            let refused = try await request(late, "s7", #""subscribe":{"topic":"room:9","since":{"epoch":"x","offset":1}}"#)
            #expect(errorCode(refused) == "invalid_argument")
            for socket in [back, bob, stranger, late] { try await socket.close() }
        }
    }

    @Test("history under a steady publisher: a subscribe with a position in the middle of the stream switches from replay to live with no gap and no duplicate")
    func historySwitchToLive() async throws {
        try await withCluster(nodes: 2, configure: Self.open) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let watcher = try await one.connect("wes")
            let publisher = try await two.connect("pam")
            let first = try #require(try await request(watcher, "s1", #""subscribe":{"topic":"long:7"}"#)["ok"] as? [String: Any])
            let epoch = try #require((first["position"] as? [String: Any])?["epoch"] as? String)
            try await waitUntil { one.node.relaysReach(topic: "long:7") }
            // Under the publisher's burst allowance (client-burst 400): none is refused.
            let total = 200
            // Fire-and-forget publishes (no id: only a failure is answered) while late subscribers join.
            let sending = Task {
                for n in 1...total {
                    publisher.send(#"{"publish":{"topic":"long:7","data":{"n":\#(n)}}}"#)
                    if n % 20 == 0 { try await Task.sleep(for: .milliseconds(1)) }
                }
            }
            // Subscribers that join mid-stream from position 10 on both nodes: each must see 11…200.
            try await waitUntil { (try await topicPush(watcher).offset ?? 0) >= 20 }
            var late: [TestWebSocket] = []
            for (index, node) in Array(repeating: [one, two], count: 3).joined().enumerated() {
                let socket = try await node.connect("late\(index)")
                socket.send(#"{"id":"r","subscribe":{"topic":"long:7","since":{"epoch":"\#(epoch)","offset":10}}}"#)
                late.append(socket)
            }
            try await sending.value
            for socket in late {
                let answer = try #require(try await socket.receiveJSON()["ok"] as? [String: Any])
                #expect(answer["recovered"] as? Bool == true)
                var offsets: [Int] = []
                while offsets.last != total { offsets.append(try #require(try await topicPush(socket).offset)) }
                #expect(offsets == Array(11...total), "replay then live: every offset once, in order")
            }
            for socket in late + [watcher, publisher] { try await socket.close() }
        }
    }

    private static var authorized: Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(RunningNode.pushSecret)", forKey: "authorization")
        return metadata
    }

    @Test("a backend publishes through the Gateway API on a node without subscribers: every subscriber gets it once, as the backend's; a topic nobody follows is offline; a bad or unknown topic is invalid_argument; a push stream item may name a topic")
    func backendPublishes() async throws {
        try await withCluster(nodes: 2, configure: Self.open) { cluster in
            let fan = try await cluster.nodes[0].connect("fan", topics: ["match:*"])
            try await subscribe(fan, "match:5", on: cluster.nodes[0])
            try await withGRPCClient(port: cluster.nodes[1].grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var request = Switchboard_Gateway_V1_PublishToTopicRequest()
                request.topic = "match:5"
                request.push.from = "scores"
                request.push.kind = "goal"
                request.push.dataJson = Data(#"{"minute":17}"#.utf8)
                let outcome = try await gateway.publishToTopic(request, metadata: Self.authorized)
                #expect(outcome.deliveredLocal == 0 && outcome.relayedNodes == 1 && !outcome.offline)

                request.topic = "match:6"
                #expect(try await gateway.publishToTopic(request, metadata: Self.authorized).offline, "nobody follows match:6")
                for bad in ["nowhere:1", "match 5", ""] {
                    request.topic = bad
                    let refused = request
                    let error = await #expect(throws: RPCError.self, "\(bad)") { try await gateway.publishToTopic(refused, metadata: Self.authorized) }
                    #expect(error?.code == .invalidArgument)
                }

                var item = Switchboard_Gateway_V1_PushStreamItem()
                item.id = 1
                item.topic = "match:5"
                item.push.kind = "goal"
                item.push.dataJson = Data(#"{"minute":90}"#.utf8)
                let streamed = item
                let outcomes = try await gateway.pushStream(
                    metadata: Self.authorized,
                    requestProducer: { writer in try await writer.write(streamed) },
                    onResponse: { response in try await response.messages.reduce(into: []) { $0.append($1) } }
                )
                #expect(outcomes.count == 1 && outcomes.first?.outcome.relayedNodes == 1)
            }
            for minute in [17, 90] {
                let push = try #require(try await fan.receiveJSON()["push"] as? [String: Any])
                #expect(push["topic"] as? String == "match:5")
                #expect(push["origin"] as? String == "backend")
                #expect((push["data"] as? [String: Any])?["minute"] as? Int == minute)
            }
            try await fan.close()
        }
    }

    @Test("Redis restarted: a publish meanwhile fails with unavailable, and once Redis is back every node resubscribes its topics unprompted")
    func redisRestart() async throws {
        let redis = try await RedisServer.start()
        try await withCluster(nodes: 2, redis: redis, configure: Self.open) { cluster in
            let subscriber = try await cluster.nodes[1].connect("sam")
            try await subscribe(subscriber, "room:r", on: cluster.nodes[1])
            let publisher = try await cluster.nodes[0].connect("pia")

            redis.kill()
            try await waitUntil { !cluster.nodes[0].node.isReady }
            var round = 0
            try await waitUntil {
                round += 1
                return errorCode(try await request(publisher, "down\(round)", #""publish":{"topic":"room:r","data":0}"#)) == "unavailable"
            }

            try await redis.launch()
            try await waitUntil { cluster.nodes.allSatisfy { $0.node.isReady } }
            // Until node 2 has resubscribed, a publish reaches nobody; then it reaches sam.
            var n = 0
            try await waitUntil {
                n += 1
                let answer = try await request(publisher, "up\(n)", #""publish":{"topic":"room:r","data":\#(n)}"#)
                return (answer["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1
            }
            #expect((try await subscriber.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == n, "the first publish that reached node 2, and none before it")
            let probe = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "probe"))
            defer { probe.close() }
            #expect(try await numsub(probe, "\(cluster.prefix)relay:topic:room:r") == 1)
            for client in [subscriber, publisher] { try await client.close() }
        }
        redis.kill()
    }

    @Test("joins=on: the other subscribers, on any node, are told when a connection subscribes and when it unsubscribes or disconnects; the joiner is not told of itself")
    func joinsAndLeaves() async throws {
        try await withCluster(nodes: 2, configure: Self.open) { cluster in
            let ann = try await cluster.nodes[0].connect("ann")
            try await subscribe(ann, "lobby:1", on: cluster.nodes[0])
            let bob = try await cluster.nodes[1].connect("bob")
            try await subscribe(bob, "lobby:1", on: cluster.nodes[1])
            func event(_ socket: TestWebSocket) async throws -> (kind: String?, user: String?, origin: String?, topic: String?) {
                let push = try #require(try await socket.receiveJSON()["push"] as? [String: Any])
                return (push["kind"] as? String, (push["data"] as? [String: Any])?["user"] as? String, push["origin"] as? String, push["topic"] as? String)
            }
            let joined = try await event(ann)
            #expect(joined.kind == "switchboard.join" && joined.user == "bob" && joined.origin == "backend" && joined.topic == "lobby:1")
            _ = try await request(bob, "u", #""unsubscribe":{"topic":"lobby:1"}"#)
            let left = try await event(ann)
            #expect(left.kind == "switchboard.leave" && left.user == "bob")

            let cat = try await cluster.nodes[1].connect("cat")
            try await subscribe(cat, "lobby:1", on: cluster.nodes[1])
            #expect(try await event(ann).kind == "switchboard.join")
            try await cat.close()
            let gone = try await event(ann)
            #expect(gone.kind == "switchboard.leave" && gone.user == "cat", "a disconnect is a leave")
            // bob heard nothing of his own join: his next frame is the answer to this ping.
            #expect(try await request(bob, "ping", #""ping":{}"#)["ok"] != nil)
            for client in [ann, bob] { try await client.close() }
        }
    }

    @Test("server-side subscriptions: a backend subscribes a user on every node, whatever the namespace's rule; a later connect is subscribed before its welcome, which names the topic; Unsubscribe ends both; one connection alone; the per-user bound")
    func serverSideSubscriptions() async throws {
        try await withCluster(nodes: 2, configure: {
            Self.open(&$0)
            $0.topicsPerConnection = 2
        }) { cluster in
            let (one, two) = (cluster.nodes[0], cluster.nodes[1])
            let phone = try await one.connect("dan")
            let laptop = try await two.connect("dan")
            try await withGRPCClient(port: two.grpcPort) { client in
                let gateway = Switchboard_Gateway_V1_GatewayService.Client(wrapping: client)
                var subscription = Switchboard_Gateway_V1_SubscriptionRequest()
                subscription.topic = "match:7"
                subscription.user = "dan"
                let outcome = try await gateway.subscribe(subscription, metadata: Self.authorized)
                #expect(outcome.stored && outcome.changedLocal == 1 && outcome.relayedNodes == 1)
                // Each node subscribes its connection in turn with the connection's other work,
                // and then the topic's channel in Redis: a publish before that misses the node.
                for node in [one, two] { try await waitUntil { try await node.metricValue("switchboard_topic_subscriptions") == 1 } }
                for node in [one, two] { try await waitUntil { node.node.relaysReach(topic: "match:7") } }

                var publish = Switchboard_Gateway_V1_PublishToTopicRequest()
                publish.topic = "match:7"
                publish.push.kind = "goal"
                publish.push.dataJson = Data("1".utf8)
                let first = try await gateway.publishToTopic(publish, metadata: Self.authorized)
                #expect(first.deliveredLocal == 1 && first.relayedNodes == 1)
                for socket in [phone, laptop] { #expect((try await socket.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == 1) }

                // A connection opened later is subscribed before its welcome, which says so.
                let tablet = try await one.connect("dan", awaitWelcome: false)
                let welcome = try #require(try await tablet.receiveJSON()["welcome"] as? [String: Any])
                #expect(welcome["topics"] as? [String] == ["match:7"])
                publish.push.dataJson = Data("2".utf8)
                #expect(try await gateway.publishToTopic(publish, metadata: Self.authorized).relayedNodes == 1)
                for socket in [phone, laptop, tablet] { #expect((try await socket.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == 2) }

                // The bound: two topics kept per user here.
                subscription.topic = "room:a"
                _ = try await gateway.subscribe(subscription, metadata: Self.authorized)
                subscription.topic = "room:b"
                let third = subscription
                let refused = await #expect(throws: RPCError.self) { _ = try await gateway.subscribe(third, metadata: Self.authorized) }
                #expect(refused?.code == .resourceExhausted)

                subscription.topic = "match:7"
                let ended = try await gateway.unsubscribe(subscription, metadata: Self.authorized)
                #expect(!ended.stored && ended.changedLocal == 1 && ended.relayedNodes == 1, "the laptop here, node 1 told")
                try await waitUntil { try await gateway.publishToTopic(publish, metadata: Self.authorized).offline }
                let later = try await two.connect("dan", awaitWelcome: false)
                let plain = try #require(try await later.receiveJSON()["welcome"] as? [String: Any])
                #expect(plain["topics"] as? [String] == ["room:a"], "only what is still kept")

                // One connection: eve's phone alone, not kept for her next connect.
                let evePhone = try await one.connect("eve")
                let eveLaptop = try await two.connect("eve")
                let id = try #require(try await gateway.getPresence(.with { $0.user = "eve" }, metadata: Self.authorized).connections.first { $0.node == "node-1" }?.connection)
                subscription.connection = id
                subscription.topic = "match:8"
                let single = try await gateway.subscribe(subscription, metadata: Self.authorized)
                #expect(!single.stored && single.changedLocal == 0 && single.relayedNodes == 1, "the phone is on node 1, the call on node 2")
                try await waitUntil { one.node.relaysReach(topic: "match:8") }
                publish.topic = "match:8"
                publish.push.dataJson = Data("3".utf8)
                #expect(try await gateway.publishToTopic(publish, metadata: Self.authorized).deliveredLocal == 0)
                #expect((try await evePhone.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == 3)
                #expect(try await request(eveLaptop, "p", #""ping":{}"#)["ok"] != nil, "the laptop got nothing")
                for socket in [phone, laptop, tablet, later, evePhone, eveLaptop] { try await socket.close() }
            }
        }
    }
}
