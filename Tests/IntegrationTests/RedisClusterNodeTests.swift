@testable import Bench
import Essentials
import Foundation
import GRPCCore
import GRPCSupport
import Logging
import Node
import RedisClient
import Routing
import SwiftProtobuf
import SwitchboardProtocol
import Testing
import NodeTestSupport
import TestSupport

/// Nodes on a real Redis Cluster (6 redis-server processes: 3 primaries, 3 replicas):
/// relay through sharded pub/sub, presence by slot, the crash sweep across shards, and a
/// primary killed under traffic.
@Suite("Nodes on a Redis Cluster", .tags(.redis), .timeLimit(.minutes(4)))
struct RedisClusterNodeTests {
    /// One user name per shard of `topology`, in shard order: a user's keys and channel live
    /// in the slot of its name (the hash tag).
    static func usersOnEachShard(_ topology: RedisClusterTopology, prefix: String) throws -> [String] {
        var users = [String?](repeating: nil, count: topology.shards.count)
        for index in 0..<1000 where users.contains(nil) {
            let name = "\(prefix)\(index)"
            if let shard = topology.shardIndex(ofSlot: RedisHashSlot.of(name)), users[shard] == nil { users[shard] = name }
        }
        return try users.map { try #require($0) }
    }

    private static let authorized: Metadata = ["authorization": "Bearer \(RunningNode.pushSecret)"]

    @Test("users on three shards: sends and backend pushes cross nodes, each user's channel lives on its own shard, presence agrees from every node")
    func acrossShards() async throws {
        let redis = try await TestRedisCluster.shared()
        let topology = try await redis.topology()
        try await withCluster(nodes: 3, redisCluster: redis) { cluster in
            let users = try Self.usersOnEachShard(topology, prefix: "shard-user-")
            var clients: [TestWebSocket] = []
            for (index, user) in users.enumerated() { clients.append(try await cluster.nodes[index].connect(user)) }

            // Each user sends to the next one, who is on another node and another shard.
            for (index, user) in users.enumerated() {
                let next = (index + 1) % users.count
                clients[index].send(#"{"id":"s\#(index)","send":{"to":"\#(users[next])","data":"from \#(user)"}}"#)
                let ok = try #require(try await clients[index].receiveJSON()["ok"] as? [String: Any])
                #expect(ok["relayedNodes"] as? Int == 1)
                let push = try #require(try await clients[next].receiveJSON()["push"] as? [String: Any])
                #expect(push["from"] as? String == user)
                #expect(push["data"] as? String == "from \(user)")
            }

            // Sharded pub/sub: a user's channel is subscribed on the shard of the user's slot only.
            for (index, user) in users.enumerated() {
                let channel = "\(cluster.prefix)relay:user:{\(user)}"
                for shard in topology.shards {
                    var endpoint = RedisEndpoint(host: shard.primary.host, port: shard.primary.port)
                    (endpoint.connectTimeout, endpoint.commandTimeout) = (.seconds(30), .seconds(30))  // a busy machine's pace
                    let server = RedisConnection(endpoint: endpoint, logger: Logger(label: "probe"))
                    let counted = try await server.send("PUBSUB", "SHARDNUMSUB", channel).array?.last?.integer
                    server.close()
                    #expect(counted == (shard == topology.shards[index] ? 1 : 0), "\(channel) on \(shard.primary.port)")
                }
            }

            // A backend pushes through node 3 to the user on node 1.
            try await withGRPCClient(port: cluster.nodes[2].grpcPort) { client in
                var request = Switchboard_Gateway_V1_PushToUserRequest()
                request.user = users[0]
                request.push.kind = "alert"
                let outcome = try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(request, metadata: Self.authorized)
                #expect(outcome.relayedNodes == 1 && !outcome.offline)
            }
            #expect((try await clients[0].receiveJSON()["push"] as? [String: Any])?["kind"] as? String == "alert")

            for node in cluster.nodes {
                let asker = try await node.connect("asker")
                for (index, user) in users.enumerated() {
                    asker.send(#"{"id":"p","presence":{"user":"\#(user)"}}"#)
                    let connections = try #require((try await asker.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]])
                    #expect(connections.map { $0["node"] } == ["node-\(index + 1)"], "\(user) seen from \(node.node.configuration.nodeID)")
                }
                try await asker.close()
            }
            for client in clients { try await client.close() }
        }
    }

    @Test("topics on three shards: a publish reaches the subscriber on another node, and each topic's channel is subscribed on its own shard only (SHARDNUMSUB)")
    func topicsAcrossShards() async throws {
        let redis = try await TestRedisCluster.shared()
        let topology = try await redis.topology()
        try await withCluster(nodes: 3, redisCluster: redis, configure: {
            $0.topicNamespaces = try! TopicNamespaces(parsing: "room:subscribe=any,publish=any,history=10")
        }) { cluster in
            // Topic names whose slots fall on each shard: a topic's name is its hash tag.
            let topics = try Self.usersOnEachShard(topology, prefix: "room:")
            var epochs: [String] = []
            var subscribers: [TestWebSocket] = []
            var publishers: [TestWebSocket] = []
            for (index, topic) in topics.enumerated() {
                let subscriber = try await cluster.nodes[index].connect("sub-\(index)")
                subscriber.send(#"{"id":"s","subscribe":{"topic":"\#(topic)"}}"#)
                let ok = try #require(try await subscriber.receiveJSON()["ok"] as? [String: Any])
                #expect(ok["topic"] as? String == topic)
                epochs.append(try #require((ok["position"] as? [String: Any])?["epoch"] as? String, "history=10: the answer says where it stands"))
                try await waitUntil { cluster.nodes[index].node.relaysReach(topic: topic) }
                subscribers.append(subscriber)
                publishers.append(try await cluster.nodes[(index + 1) % topics.count].connect("pub-\(index)"))
            }
            for (index, topic) in topics.enumerated() {
                publishers[index].send(#"{"id":"p","publish":{"topic":"\#(topic)","data":\#(index)}}"#)
                #expect((try await publishers[index].receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1)
                let push = try #require(try await subscribers[index].receiveJSON()["push"] as? [String: Any])
                #expect(push["topic"] as? String == topic && push["data"] as? Int == index)
                #expect((push["position"] as? [String: Any])?["offset"] as? Int == 1, "kept in the topic's history, on its shard")

                let channel = "\(cluster.prefix)relay:topic:{\(topic)}"
                for shard in topology.shards {
                    var endpoint = RedisEndpoint(host: shard.primary.host, port: shard.primary.port)
                    (endpoint.connectTimeout, endpoint.commandTimeout) = (.seconds(30), .seconds(30))
                    let server = RedisConnection(endpoint: endpoint, logger: Logger(label: "probe"))
                    let counted = try await server.send("PUBSUB", "SHARDNUMSUB", channel).array?.last?.integer
                    server.close()
                    #expect(counted == (shard == topology.shards[index] ? 1 : 0), "\(channel) on \(shard.primary.port)")
                }
                // A subscriber on another node coming back from offset 0 gets it replayed (after the
                // count: its node subscribes too).
                let late = try await cluster.nodes[(index + 2) % topics.count].connect("late-\(index)")
                late.send(#"{"id":"r","subscribe":{"topic":"\#(topic)","since":{"epoch":"\#(epochs[index])","offset":0}}}"#)
                #expect((try await late.receiveJSON()["ok"] as? [String: Any])?["recovered"] as? Bool == true)
                #expect((try await late.receiveJSON()["push"] as? [String: Any])?["data"] as? Int == index)
                try await late.close()
            }
            for client in subscribers + publishers { try await client.close() }
        }
    }

    @Test("sends across nodes, backend pushes and broadcasts reach every target exactly once (the load generator's ledger)")
    func exactlyOnce() async throws {
        let redis = try await TestRedisCluster.shared()
        try await withCluster(nodes: 3, redisCluster: redis) { cluster in
            let endpoints = try cluster.nodes.map { try BenchEndpoint(url: $0.url) }
            let gateways = cluster.nodes.map { GRPCEndpoint(host: "127.0.0.1", port: $0.grpcPort) }
            let sources = try IPAddresses(count: 0)
            let send = try await SendBenchmark(
                endpoints: endpoints, secret: RunningNode.secret, clients: 30, crossNodeShare: 1, load: .closedLoop(window: 4),
                stop: .messages(600), payloadBytes: 16, sources: sources
            ).run()
            #expect(send.tally.sent == 600)
            #expect(send.tally.isClean, "\(send.tally)")
            let push = try await PushBenchmark(
                endpoints: endpoints, gateways: gateways, secret: RunningNode.secret, pushSecret: RunningNode.pushSecret, clients: 30,
                concurrency: 4, rate: nil, stop: .messages(300), sources: sources
            ).run()
            #expect(push.tally.sent == 300)
            #expect(push.tally.isClean, "\(push.tally)")
            let broadcast = try await BroadcastBenchmark(
                endpoints: endpoints, gateways: gateways, secret: RunningNode.secret, pushSecret: RunningNode.pushSecret, clients: 60,
                broadcasts: 4, sources: sources
            ).run()
            #expect(broadcast.tally.sent == 240)
            #expect(broadcast.tally.isClean, "\(broadcast.tally)")
        }
    }

    @Test("durable pushes are kept in the user's shard and replayed at the next connect; the dashboard's call lists every node")
    func durableAndStats() async throws {
        let redis = try await TestRedisCluster.shared()
        let topology = try await redis.topology()
        try await withCluster(nodes: 2, redisCluster: redis, configure: { $0.inbox.durableKinds = ["note"]; $0.dev = true; $0.statsInterval = .milliseconds(100) }) { cluster in
            let users = try Self.usersOnEachShard(topology, prefix: "inbox-user-")
            for user in users {
                for text in ["first", "second"] {
                    let outcome = try await withGRPCClient(port: cluster.nodes[0].grpcPort) { client in
                        var request = Switchboard_Gateway_V1_PushToUserRequest()
                        request.user = user
                        request.push.kind = "note"
                        request.push.data = .init(stringValue: text)
                        // The users have never connected: the backend asks by name.
                        request.durable = true
                        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(request, metadata: Self.authorized)
                    }
                    #expect(outcome.stored, "\(user): \(text)")
                }
                // Durable by kind only: a user with no inbox who is not connected gets none.
                let ghost = try await withGRPCClient(port: cluster.nodes[0].grpcPort) { client in
                    var request = Switchboard_Gateway_V1_PushToUserRequest()
                    request.user = "ghost-\(user)"
                    request.push.kind = "note"
                    return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(request, metadata: Self.authorized)
                }
                #expect(!ghost.stored && ghost.offline, "ghost-\(user)")
            }
            for user in users {
                let client = try await cluster.nodes[1].connect(user, awaitWelcome: false, query: "since=0")
                let inbox = try #require((try await client.receiveJSON()["welcome"] as? [String: Any])?["inbox"] as? [String: Any])
                #expect(inbox["recovered"] as? Bool == true && inbox["replayed"] as? Int == 2, "\(user)")
                var replayed: [String] = []
                for _ in 0..<2 { replayed.append((try await client.receiveJSON()["push"] as? [String: Any])?["data"] as? String ?? "") }
                #expect(replayed == ["first", "second"])
                try await client.close()
            }

            let watcher = try await cluster.nodes[1].connect("watcher")
            _ = try await eventually { () -> Bool? in
                watcher.send(#"{"id":"s","call":"switchboard.cluster"}"#)
                let stats = (try await watcher.receiveJSON()["ok"] as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
                return stats.compactMap { $0["node"] as? String } == ["node-1", "node-2"] ? true : nil
            }
            try await watcher.close()
        }
    }

    @Test("a node killed with SIGKILL: a live node sweeps its users' presence from every shard")
    func crashSwept() async throws {
        let redis = try await TestRedisCluster.shared()
        let topology = try await redis.topology()
        try await withCluster(nodes: 1, redisCluster: redis) { cluster in
            let observer = try await cluster.nodes[0].connect("observer")
            let port = try freePort()
            let process = ChildProcess.guarded()
            process.executableURL = ProcessTests.executable
            process.arguments = [
                "node", "--port", "\(port)", "--grpc-port", "0", "--node-id", "doomed", "--log-level", "error",
                "--redis", redis.url, "--redis-prefix", cluster.prefix,
            ]
            process.environment = ["SWITCHBOARD_JWT_SECRET": RunningNode.secret, "SWITCHBOARD_PUSH_SECRET": RunningNode.pushSecret]
            // Not the test's pipes: a node outliving a crashed test process would hold them open.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let users = try Self.usersOnEachShard(topology, prefix: "doomed-user-")
            var held: [TestWebSocket] = []
            for user in users {
                let token = try await RunningNode.token(for: user)
                var connected: TestWebSocket?
                try await waitUntil(timeout: .seconds(60)) {
                    connected = try? await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/ws", token: token)
                    return connected != nil
                }
                held.append(try #require(connected))
            }
            for user in users {
                try await waitUntil {
                    observer.send(#"{"id":"p","presence":{"user":"\#(user)"}}"#)
                    let connections = (try await observer.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]]
                    return connections?.map { $0["node"] } == ["doomed"]
                }
            }

            kill(process.processIdentifier, SIGKILL)
            for user in users {
                try await waitUntil(timeout: .seconds(60)) {
                    observer.send(#"{"id":"p","presence":{"user":"\#(user)"}}"#)
                    return (try await observer.receiveJSON()["ok"] as? [String: Any])?["online"] as? Bool == false
                }
            }
            // Nothing of the dead node is left: its connection set and its place among the nodes.
            let probe = RedisConnectionGroup(endpoint: redis.endpoint, logger: Logger(label: "probe"))
            defer { probe.close() }
            let set = "\(cluster.prefix)node:{doomed}:conns"
            #expect(try await probe.send(key: set, ["EXISTS", set]) == .integer(0))
            try await waitUntil {
                let nodes = "\(cluster.prefix)nodes"
                return try await probe.send(key: nodes, ["ZSCORE", nodes, "doomed"]) == .null
            }
            try await observer.close()
            _ = held
        }
    }

    @Test("a primary killed under traffic: nodes follow the promoted replica, resubscribe, restore presence; what was lost meanwhile is counted; stored durable pushes are recovered")
    func failoverUnderTraffic() async throws {
        try await withRedisCluster { redis in
            let topology = try await redis.topology()
            try await withCluster(nodes: 2, redisCluster: redis, configure: { $0.inbox.durableKinds = ["note"] }) { cluster in
                let users = try Self.usersOnEachShard(topology, prefix: "failover-user-")
                // alice on node 1 sends to bob on node 2 and to carol on node 1; bob's shard fails.
                let (alice, bob) = (try await cluster.nodes[0].connect(users[0]), try await cluster.nodes[1].connect(users[1]))
                let doomed = try await redis.primary(for: users[1])

                var sequence = 0
                var answered = (delivered: 0, refused: 0)
                /// One send to bob; true when bob got it through the relay.
                func relayed() async throws -> Bool {
                    sequence += 1
                    alice.send(#"{"id":"\#(sequence)","send":{"to":"\#(users[1])","data":\#(sequence)}}"#)
                    let answer = try await alice.receiveJSON()
                    guard (answer["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1 else {
                        answered.refused += 1
                        return false
                    }
                    while true {
                        let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
                        if push["data"] as? Int == sequence {
                            answered.delivered += 1
                            return true
                        }
                    }
                }
                for _ in 0..<20 { #expect(try await relayed()) }

                // Three durable notes for bob, stored on the doomed shard and replicated
                // (WAIT: replication is asynchronous, and this makes "before the kill" exact).
                var epoch = ""
                for text in ["n1", "n2", "n3"] {
                    let outcome = try await withGRPCClient(port: cluster.nodes[0].grpcPort) { client in
                        var request = Switchboard_Gateway_V1_PushToUserRequest()
                        request.user = users[1]
                        request.push.kind = "note"
                        request.push.data = .init(stringValue: text)
                        return try await Switchboard_Gateway_V1_GatewayService.Client(wrapping: client).pushToUser(request, metadata: Self.authorized)
                    }
                    #expect(outcome.stored)
                    epoch = outcome.epoch
                }
                let direct = RedisConnection(endpoint: doomed.endpoint, logger: Logger(label: "probe"))
                #expect(try await direct.send("WAIT", "1", "5000") == .integer(1), "the notes reached the replica")
                direct.close()

                doomed.kill()
                let killed = ContinuousClock.now
                // During the gap a user of the failing shard connects to node 1.
                let carol = try await cluster.nodes[0].connect(users[1] + "-phone")
                try await waitUntil(timeout: .seconds(60)) { try await relayed() }
                let pause = ContinuousClock.now - killed
                for _ in 0..<20 { #expect(try await relayed(), "relay keeps working after the failover") }
                print("redis cluster failover: relay paused \(pause); \(answered.refused) sends answered with an error meanwhile, \(answered.delivered) delivered in all")
                let promoted = try await redis.topology()
                #expect(!promoted.shards.contains { $0.primary.port == doomed.port }, "a replica took over the killed primary's slots")

                for node in cluster.nodes {
                    let asker = try await node.connect("asker")
                    for (user, where_) in [(users[0], "node-1"), (users[1], "node-2"), (users[1] + "-phone", "node-1")] {
                        try await waitUntil(timeout: .seconds(30)) {
                            asker.send(#"{"id":"p","presence":{"user":"\#(user)"}}"#)
                            let listed = (try await asker.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]] ?? []
                            return listed.map { $0["node"] } == [where_]
                        }
                    }
                    try await asker.close()
                }
                // bob's new device resumes from the start of his inbox, now on the promoted replica.
                let resumed = try await cluster.nodes[0].connect(users[1], awaitWelcome: false, query: "since=0&epoch=\(epoch)")
                let inbox = try #require((try await resumed.receiveJSON()["welcome"] as? [String: Any])?["inbox"] as? [String: Any])
                #expect(inbox["recovered"] as? Bool == true)
                var notes: [String] = []
                for _ in 0..<((inbox["replayed"] as? Int) ?? 0) {
                    notes.append((try await resumed.receiveJSON()["push"] as? [String: Any])?["data"] as? String ?? "")
                }
                #expect(notes == ["n1", "n2", "n3"], "the stored notes survive the failover")
                for client in [alice, bob, carol, resumed] { try await client.close() }
            }
        }
    }
}
