import Essentials
import Foundation
import Logging
import Node
import RedisBackplane
import RedisClient
import Testing
import NodeTestSupport
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

        try await withCluster(nodes: 2, redis: redis, configure: { $0.redis = BackplaneEndpoint(redis: endpoint); $0.redisPrefix = "sb:" }) { cluster in
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
            let configured = try #require(try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": redis.url, "redis-ca-file": files.ca]).redis).redis
            #expect(configured.isCluster && configured.tls && configured.password == "cluster-password" && configured.caFile == files.ca)

            let users = try RedisClusterNodeTests.usersOnEachShard(try await redis.topology(), prefix: "tls-user-")
            try await withCluster(nodes: 3, redisCluster: redis, configure: { $0.redis = BackplaneEndpoint(redis: configured) }) { cluster in
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
        #expect(configuration.redis?.usesTLS == true)
        #expect(configuration.redis?.description == "rediss://node:***@cache:6380")
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": "redis://cache", "redis-ca-file": "/etc/hostname"])
        }
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(environment: Self.secrets, flags: ["redis": "rediss://cache", "redis-ca-file": "/nonexistent"])
        }
    }

    @Test("a Redis that offers only TLS 1.1 is refused in the handshake: nodes speak TLS 1.2 at least")
    func tls12Minimum() async throws {
        let files = try TestCertificates.make()
        defer { files.remove() }
        let port = try freePort()
        let server = ChildProcess.guarded()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        server.arguments = RedisServer.tlsArguments(port: port, files) + [
            "--tls-protocols", "TLSv1.1", "--tls-ciphers", "DEFAULT@SECLEVEL=0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        // It is up and answers over TLS 1.1 (Python's client, old versions allowed).
        let probe = """
        import socket, ssl, warnings
        warnings.simplefilter("ignore")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); context.load_verify_locations("\(files.ca)")
        context.minimum_version = ssl.TLSVersion.TLSv1; context.set_ciphers("DEFAULT@SECLEVEL=0")
        connection = context.wrap_socket(socket.create_connection(("127.0.0.1", \(port))), server_hostname="127.0.0.1")
        connection.sendall(b"PING\\r\\n"); print(connection.version(), connection.recv(16))
        """
        try await waitUntil {
            let python = ChildProcess.guarded()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            python.arguments = ["-c", probe]
            let output = Pipe()
            python.standardOutput = output
            python.standardError = FileHandle.nullDevice
            try python.run()
            let printed = await output.readToEnd()
            python.waitUntilExit()
            return String(decoding: printed, as: UTF8.self).contains("TLSv1.1 b'+PONG")
        }
        var endpoint = RedisEndpoint(host: "127.0.0.1", port: port, tls: true, caFile: files.ca)
        endpoint.connectTimeout = .seconds(10)
        endpoint.commandTimeout = .seconds(10)
        let answer = await Self.send(endpoint, ["PING"])
        #expect(!answer.contains("PONG"), "\(answer)")
    }

    @Test("sentinels that speak only TLS are asked over TLS with rediss://, and the primary they name is reached over TLS")
    func sentinelsOverTLS() async throws {
        let files = try TestCertificates.make()
        defer { files.remove() }
        let primary = try await RedisServer.startTLS(files)
        defer { primary.kill() }
        let sentinels = try await TestSentinels.start(count: 1, watching: primary, replicas: 0, tls: files)
        defer { sentinels.stop() }
        let configuration = try NodeConfiguration.resolve(environment: [:], flags: [
            "redis": "rediss://127.0.0.1", "redis-ca-file": files.ca,
            "redis-sentinels": sentinels.addresses, "redis-master-name": sentinels.masterName,
        ])
        var endpoint = try #require(configuration.redis).redis
        endpoint.connectTimeout = .seconds(30)
        endpoint.commandTimeout = .seconds(30)
        // A sentinel is asked with a short deadline, and a busy machine's TLS handshake can
        // pass it: like a node, ask again until the primary answers.
        var last = ""
        do {
            try await waitUntil {
                last = await Self.send(endpoint, ["PING"])
                return last.contains("PONG")
            }
        } catch {
            Issue.record("never answered over TLS: \(last)")
        }
    }
}
