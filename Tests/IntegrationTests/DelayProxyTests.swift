import Essentials
import Foundation
import Logging
import RedisClient
import Testing
import TestSupport

/// `switchboard bench delay-proxy` in front of a real redis-server: what goes through arrives
/// whole, with the delay switched on and off while the connection stays open, and Redis going
/// away reaches the client as an error, not a hang.
@Suite("Delay proxy in front of Redis", .tags(.process, .redis))
struct DelayProxyTests {
    /// A delay proxy in front of `redis` on a free port, with `options` added; the caller kills it.
    static func startProxy(to redis: RedisServer, _ options: String...) throws -> (proxy: ChildProcess, port: Int) {
        let port = try freePort()
        let proxy = ChildProcess.testChild()
        proxy.executableURL = ProcessTests.executable
        proxy.arguments = ["bench", "delay-proxy", "--port", "\(port)", "--target", "127.0.0.1:\(redis.port)"] + options
        try proxy.run()
        return (proxy, port)
    }

    @Test("commands and a 1 MB value pass through with the delay off, on (SIGUSR1) and off again (SIGUSR2); a killed Redis fails the command")
    func throughRedis() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let (proxy, port) = try Self.startProxy(to: redis, "--delay-ms", "100")
        defer { kill(proxy.processIdentifier, SIGKILL) }
        var endpoint = RedisEndpoint(host: "127.0.0.1", port: port)
        endpoint.connectTimeout = .seconds(30)
        endpoint.commandTimeout = .seconds(60)
        let connection = RedisConnection(endpoint: endpoint, logger: Logger(label: "through-proxy"))
        defer { connection.close() }
        try await waitUntil { (try? await connection.send("PING"))?.string == "PONG" }
        let value = String(repeating: "0123456789abcdef", count: 65_536)
        _ = try await connection.send("SET", "big", value)
        #expect(try await connection.send("GET", "big").string == value)
        for (signal, name) in [(SIGUSR1, "on"), (SIGUSR2, "off")] {
            kill(proxy.processIdentifier, signal)
            for n in 0..<20 { _ = try await connection.send("RPUSH", "list-\(name)", "\(n)") }
            #expect(try await connection.send("LRANGE", "list-\(name)", "0", "-1").array?.compactMap(\.string) == (0..<20).map(String.init), "delay \(name)")
            #expect(try await connection.send("STRLEN", "big").integer == Int64(value.utf8.count))
        }
        redis.kill()
        await #expect(throws: (any Error).self) { _ = try await connection.send("PING") }
        #expect(proxy.isRunning, "the proxy outlives its target")
    }

    @Test("every one of many connections opened one after another is answered (none left unread by the proxy)")
    func manyConnections() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let (proxy, port) = try Self.startProxy(to: redis)
        defer { kill(proxy.processIdentifier, SIGKILL) }
        var endpoint = RedisEndpoint(host: "127.0.0.1", port: port)
        endpoint.connectTimeout = .seconds(30)
        // A connection whose command the proxy never reads fails here, not after a minute.
        endpoint.commandTimeout = .seconds(15)
        let first = RedisConnection(endpoint: endpoint, logger: Logger(label: "through-proxy"))
        try await waitUntil { (try? await first.send("PING"))?.string == "PONG" }
        first.close()
        var unanswered = 0
        for _ in 0..<200 {
            let connection = RedisConnection(endpoint: endpoint, logger: Logger(label: "through-proxy"))
            if (try? await connection.send("PING"))?.string != "PONG" { unanswered += 1 }
            connection.close()
        }
        #expect(unanswered == 0, "\(unanswered) of 200 connections through the proxy got no answer")
    }
}
