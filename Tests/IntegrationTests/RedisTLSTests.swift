import Foundation
import Logging
import Node
import RedisClient
import Testing
import TestSupport

/// Nodes reaching Redis over TLS (`rediss://`, `--redis-ca-file`) as an ACL user, with
/// certificates made in the test by openssl.
@Suite("Redis over TLS", .tags(.redis), .timeLimit(.minutes(3)))
struct RedisTLSTests {
    /// The secrets every node configuration needs.
    private static let secrets = ["SWITCHBOARD_JWT_SECRET": String(repeating: "j", count: 32), "SWITCHBOARD_PUSH_SECRET": String(repeating: "p", count: 16)]

    private static func send(_ endpoint: RedisEndpoint, _ arguments: [String]) async -> String {
        let connection = RedisConnection(endpoint: endpoint, logger: Logger(label: "tls-probe"))
        defer { connection.close() }
        do { return "\(try await connection.send(arguments))" } catch { return "\(error)" }
    }

    @Test("a cluster relays through a TLS-only Redis as an ACL user; a wrong password, plaintext and an untrusted CA fail clearly")
    func relayOverTLS() async throws {
        let files = try TestCertificates.make()
        defer { files.remove() }
        let redis = try await RedisServer.startTLS(files)
        defer { redis.kill() }
        let setup = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "tls-setup"))
        _ = try await setup.send(["ACL", "SETUSER", "switchboard"] + RedisACLTests.nodeRules)
        setup.close()
        var endpoint = redis.endpoint
        endpoint.username = "switchboard"
        endpoint.password = "node-password"

        try await withCluster(nodes: 2, redis: redis, configure: { $0.redis = endpoint; $0.redisPrefix = "sb:" }) { cluster in
            let alice = try await cluster.nodes[0].connect("alice")
            let bob = try await cluster.nodes[1].connect("bob")
            alice.send(#"{"id":"1","send":{"to":"bob","data":"over tls"}}"#)
            #expect((try await alice.receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1)
            #expect((try await bob.receiveJSON()["push"] as? [String: Any])?["data"] as? String == "over tls")
            try await alice.close()
            try await bob.close()
        }

        var wrong = endpoint
        wrong.password = "guess"
        let refused = await Self.send(wrong, ["GET", "sb:x"])
        #expect(refused.contains("WRONGPASS"), "\(refused)")
        var plain = endpoint
        plain.tls = false
        plain.caFile = nil
        #expect(!(await Self.send(plain, ["PING"])).contains("PONG"), "plaintext to a TLS port gets nowhere")
        var untrusted = endpoint
        untrusted.caFile = files.otherCA
        let distrust = await Self.send(untrusted, ["PING"])
        #expect(distrust.contains("unavailable"), "\(distrust)")
    }

    @Test("a Redis Cluster that speaks only TLS and asks for a password: nodes configured by rediss+cluster:// learn its shards over TLS and relay across them; a wrong password or CA fails clearly")
    func clusterOverTLS() async throws {
        let files = try TestCertificates.make()
        defer { files.remove() }
        try await withRedisCluster(tls: files, password: "cluster-password") { redis in
            let configured = try #require(try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": redis.url, "redis-ca-file": files.ca]).redis)
            #expect(configured.isCluster && configured.tls && configured.password == "cluster-password" && configured.caFile == files.ca)

            let users = try RedisClusterNodeTests.usersOnEachShard(try await redis.topology(), prefix: "tls-user-")
            try await withCluster(nodes: 3, redisCluster: redis, configure: { $0.redis = configured }) { cluster in
                var clients: [TestWebSocket] = []
                for (index, user) in users.enumerated() { clients.append(try await cluster.nodes[index].connect(user)) }
                // Each user sends to the next: another shard and another node.
                for (index, user) in users.enumerated() {
                    let next = (index + 1) % users.count
                    clients[index].send(#"{"id":"t\#(index)","send":{"to":"\#(users[next])","data":"tls from \#(user)"}}"#)
                    #expect((try await clients[index].receiveJSON()["ok"] as? [String: Any])?["relayedNodes"] as? Int == 1)
                    #expect((try await clients[next].receiveJSON()["push"] as? [String: Any])?["data"] as? String == "tls from \(user)")
                }
                for client in clients { try await client.close() }
            }

            var wrong = configured
            wrong.password = "guess"
            let refused = RedisConnectionGroup(endpoint: wrong, logger: Logger(label: "tls-cluster-probe"))
            await #expect { _ = try await refused.send(key: "k", ["GET", "k"]) } throws: { "\($0)".contains("CLUSTER SLOTS") && "\($0)".contains("WRONGPASS") }
            refused.close()
            var untrusted = configured
            untrusted.caFile = files.otherCA
            let distrusted = RedisConnectionGroup(endpoint: untrusted, logger: Logger(label: "tls-cluster-probe"))
            await #expect { _ = try await distrusted.send(key: "k", ["GET", "k"]) } throws: { "\($0)".contains("no Redis Cluster node answered CLUSTER SLOTS") }
            distrusted.close()
        }
    }

    @Test("rediss:// parses; --redis-ca-file needs rediss:// and a readable file")
    func settings() throws {
        let configuration = try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": "rediss://node:pw@cache:6380"])
        #expect(configuration.redis?.tls == true)
        #expect(configuration.redis?.description == "rediss://node:***@cache:6380")
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": "redis://cache", "redis-ca-file": "/etc/hostname"])
        }
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": "rediss://cache", "redis-ca-file": "/nonexistent"])
        }
    }
}
