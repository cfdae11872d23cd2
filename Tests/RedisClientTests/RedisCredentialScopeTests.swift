import Essentials
import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

/// Redis credentials go only where the configuration allows: a server that Redis itself
/// names (a sentinel's primary, a cluster's shard) gets the password only inside
/// `authNetworks`, in a configured host's domain, or under TLS.
@Suite("Where Redis credentials go", .tags(.redis), .timeLimit(.minutes(2)))
struct RedisCredentialScopeTests {
    @Test("named by Redis: private and loopback addresses and the configured domains get the password; a public address does not, unless listed or under TLS")
    func scope() throws {
        var endpoint = try #require(RedisEndpoint("redis+cluster://:pw@redis-0.redis.prod.svc:6379,10.1.2.3:6379"))
        for server in ["10.9.8.7", "127.0.0.1", "192.168.1.4", "fd00::5", "redis-4.redis.prod.svc", "redis-0.redis.prod.svc"] {
            #expect(endpoint.credentialProblem(sendingTo: server, namedBy: "the Redis Cluster") == nil, "\(server)")
        }
        for server in ["198.51.100.7", "2001:db8::1", "evil.example", "redis.prod.svc.evil.example", "svc"] {
            let problem = endpoint.credentialProblem(sendingTo: server, namedBy: "the Redis Cluster")
            #expect(problem?.contains("refusing to send Redis credentials to \(server)") == true, "\(server)")
        }
        #expect(endpoint.credentialProblem(sendingTo: "198.51.100.7", namedBy: nil) == nil, "what the configuration names is trusted")
        endpoint.authNetworks.append(AddressRange("198.51.100.0/24")!)
        #expect(endpoint.credentialProblem(sendingTo: "198.51.100.7", namedBy: "the Redis Cluster") == nil)
        endpoint.tls = true
        #expect(endpoint.credentialProblem(sendingTo: "evil.example", namedBy: "the Redis Cluster") == nil, "under TLS the certificate decides")
        let open = try #require(RedisEndpoint("redis+cluster://redis-0:6379"))
        #expect(open.credentialProblem(sendingTo: "198.51.100.7", namedBy: "the Redis Cluster") == nil, "no password, nothing to leak")
        #expect(endpoint.at(HostAndPort(host: "redis-0.redis.prod.svc", port: 6379)).namedBy == nil, "a seed is configured, not named")
        #expect(endpoint.at(HostAndPort(host: "10.1.9.9", port: 6379)).namedBy == "the Redis Cluster")
    }

    @Test("a sentinel that names a primary outside the allowed networks gets nothing: the connection fails saying why; one naming a loopback primary is followed")
    func spoofedSentinel() async throws {
        let redisPort = try freePort()
        let redis = try await RedisServer.start(
            port: redisPort, extra: ["--port", "\(redisPort)", "--requirepass", "sentinel-test-password"], password: "sentinel-test-password"
        )
        defer { redis.kill() }
        // A sentinel that answers whatever the test tells it to (a spoofed or hijacked one).
        let sentinelPort = try freePort()
        let answerFile = FileManager.default.temporaryDirectory.appendingPathComponent("sentinel-answer-\(UUID().uuidString)")
        try "198.51.100.7 \(redis.port)".write(to: answerFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: answerFile) }
        let script = """
        import socket
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", \(sentinelPort))); server.listen(16)
        while True:
            connection, _ = server.accept()
            try:
                if connection.recv(65536):
                    host, port = open("\(answerFile.path)").read().split()
                    connection.sendall(b"*2\\r\\n$%d\\r\\n%s\\r\\n$%d\\r\\n%s\\r\\n" % (len(host), host.encode(), len(port), port.encode()))
            except OSError:
                pass
            connection.close()
        """
        try await withPythonServer(port: sentinelPort, script: script) {
            try await Self.followsOnlyAllowed(sentinelPort: sentinelPort, redis: redis, answerFile: answerFile)
        }
    }

    /// Asks through the sentinel at `sentinelPort`: refused while it names 198.51.100.7,
    /// served once it names the loopback Redis.
    private static func followsOnlyAllowed(sentinelPort: Int, redis: RedisServer, answerFile: URL) async throws {
        var endpoint = RedisEndpoint(host: "mymaster", port: 6379, password: "sentinel-test-password")
        endpoint.sentinels = RedisSentinels(addresses: [HostAndPort(host: "127.0.0.1", port: sentinelPort)], masterName: "mymaster")
        endpoint.connectTimeout = .seconds(30)
        endpoint.commandTimeout = .seconds(30)
        let refused = RedisConnection(endpoint: endpoint, logger: Logger(label: "redis-test"))
        defer { refused.close() }
        await #expect { _ = try await refused.send("PING") } throws: { error in
            "\(error)".contains("refusing to send Redis credentials to 198.51.100.7, which a sentinel named")
        }
        try "127.0.0.1 \(redis.port)".write(to: answerFile, atomically: true, encoding: .utf8)
        let followed = RedisConnection(endpoint: endpoint, logger: Logger(label: "redis-test"))
        defer { followed.close() }
        var last = ""
        do {
            try await waitUntil {
                do {
                    return try await followed.send("PING") == .status("PONG")
                } catch {
                    last = "\(error)"
                    return false
                }
            }
        } catch {
            Issue.record("never answered: \(last)")
        }
    }
}
