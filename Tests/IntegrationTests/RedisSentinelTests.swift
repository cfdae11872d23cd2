import Essentials
import Foundation
import Logging
import Node
import RedisBackplane
import RedisClient
import Testing
import NodeTestSupport
import TestSupport

/// Nodes behind Redis Sentinel (real redis-sentinel processes, a primary and a replica):
/// they find the primary through the sentinels and, when it is killed under traffic,
/// follow the promotion by themselves: relay resumes and no presence is lost.
@Suite("Redis Sentinel failover", .tags(.redis), .timeLimit(.minutes(3)))
struct RedisSentinelTests {
    @Test("a primary killed under traffic: nodes follow the promoted replica, relay resumes, presence is whole (also of a user who connected meanwhile)")
    func failoverUnderTraffic() async throws {
        let primary = try await RedisServer.start()
        defer { primary.kill() }
        let replica = try await RedisServer.startReplica(of: primary)
        defer { replica.kill() }
        let sentinels = try await TestSentinels.start(watching: primary, replicas: 1)
        defer { sentinels.stop() }
        #expect(try await sentinels.primaryPort() == primary.port)

        try await withCluster(nodes: 2, redis: primary, configure: {
            $0.redis = nil
            $0.redisSentinels = sentinels.ports.map { HostAndPort(host: "127.0.0.1", port: $0) }
            $0.redisMasterName = sentinels.masterName
            var endpoint = RedisEndpoint(host: sentinels.masterName, port: 6379)
            endpoint.sentinels = RedisSentinels(addresses: $0.redisSentinels, masterName: sentinels.masterName)
            $0.redis = BackplaneEndpoint(redis: endpoint)
        }) { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")

            /// One send from alice to bob; true when bob got it through the relay.
            var sequence = 0
            func relayed() async throws -> Bool {
                sequence += 1
                alice.send(#"{"id":"\#(sequence)","send":{"to":"bob","data":\#(sequence)}}"#)
                let answer = try await alice.receiveJSON()
                guard (answer["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1 else { return false }
                while true {
                    let push = try #require(try await bob.receiveJSON()["push"] as? [String: Any])
                    if push["data"] as? Int == sequence { return true }
                }
            }
            #expect(try await relayed(), "relay works through the primary the sentinels named")

            primary.kill()
            let killed = ContinuousClock.now
            // While the primary is gone and no replica promoted yet, a user connects.
            let carol = try await cluster.nodes[1].connect("carol")
            try await waitUntil(timeout: .seconds(60)) { try await relayed() }
            let pause = ContinuousClock.now - killed
            print("sentinel failover: relay paused \(pause) after the primary was killed")
            #expect(try await sentinels.primaryPort() == replica.port, "the replica was promoted")

            for node in cluster.nodes {
                let asker = try await node.connect("asker")
                for user in ["alice", "bob", "carol"] {
                    var listed: [[String: String]] = []
                    try await waitUntil(timeout: .seconds(30)) {
                        asker.send(#"{"id":"p","presence":{"user":"\#(user)"}}"#)
                        listed = (try await asker.receiveJSON()["ok"] as? [String: Any])?["connections"] as? [[String: String]] ?? []
                        return listed.count == 1
                    }
                    #expect(listed.count == 1, "\(user) is present, seen from \(node.node.configuration.nodeID)")
                }
                try await asker.close()
            }
            try await alice.close()
            try await bob.close()
            try await carol.close()
        }
    }

    @Test("sentinels that ask for a password are asked with it; without it the connection fails naming the refusal")
    func sentinelPassword() async throws {
        let primary = try await RedisServer.start()
        defer { primary.kill() }
        let sentinels = try await TestSentinels.start(count: 1, watching: primary, replicas: 0, password: "sentinel-secret-0001")
        defer { sentinels.stop() }
        func endpoint(password: String?) throws -> RedisEndpoint {
            let configuration = try NodeConfiguration.resolve(environment: [:], flags: [
                "redis-sentinels": sentinels.addresses, "redis-master-name": sentinels.masterName,
            ].merging(password.map { ["redis-sentinel-password": $0] } ?? [:]) { $1 })
            var endpoint = try #require(configuration.redis).redis
            endpoint.connectTimeout = .seconds(30)
            endpoint.commandTimeout = .seconds(30)
            return endpoint
        }
        let signedIn = RedisConnection(endpoint: try endpoint(password: "sentinel-secret-0001"), logger: Logger(label: "sentinel-test"))
        defer { signedIn.close() }
        #expect(try await signedIn.send("PING") == .status("PONG"))
        let anonymous = RedisConnection(endpoint: try endpoint(password: nil), logger: Logger(label: "sentinel-test"))
        defer { anonymous.close() }
        await #expect { _ = try await anonymous.send("PING") } throws: { "\($0)".contains("NOAUTH") }
        let wrong = RedisConnection(endpoint: try endpoint(password: "not-the-password-01"), logger: Logger(label: "sentinel-test"))
        defer { wrong.close() }
        await #expect { _ = try await wrong.send("PING") } throws: { "\($0)".contains("refused its credentials") }
    }

    @Test("--redis-sentinels needs --redis-master-name; --redis then gives the credentials and database only")
    func settings() throws {
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: [:], flags: ["redis-sentinels": "127.0.0.1:26379", "jwt-secret": RunningNode.secret, "push-secret": RunningNode.pushSecret]).validate()
        }
        #expect(throws: ConfigurationError.self) { try NodeConfiguration.resolve(environment: [:], flags: ["redis-sentinels": "127.0.0.1:x"]) }
        let configuration = try NodeConfiguration.resolve(environment: [:], flags: [
            "redis-sentinels": "10.0.0.1:26379, 10.0.0.2", "redis-master-name": "main", "redis": "redis://switchboard:pw@ignored:6379/2",
        ])
        let endpoint = try #require(configuration.redis).redis
        #expect(endpoint.sentinels?.addresses == [HostAndPort(host: "10.0.0.1", port: 26379), HostAndPort(host: "10.0.0.2", port: 26379)])
        #expect(endpoint.sentinels?.masterName == "main")
        #expect(endpoint.username == "switchboard" && endpoint.password == "pw" && endpoint.database == 2)
        #expect(endpoint.handshake.last == ["ROLE"])
        #expect(!endpoint.description.contains("pw"))
    }
}
