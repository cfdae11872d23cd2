import Logging
import RedisClient
import Testing
import TestSupport

@Suite("Redis endpoints")
struct RedisEndpointTests {
    @Test("redis:// URLs and host:port parse; the port defaults to 6379; junk is refused")
    func parsing() {
        #expect(RedisEndpoint("redis://10.0.0.5:6380") == RedisEndpoint(host: "10.0.0.5", port: 6380))
        #expect(RedisEndpoint("redis://cache/0") == RedisEndpoint(host: "cache", port: 6379))
        #expect(RedisEndpoint("localhost:7000") == RedisEndpoint(host: "localhost", port: 7000))
        #expect(RedisEndpoint("") == nil)
        #expect(RedisEndpoint("host:notaport") == nil)
        #expect(RedisEndpoint("host:70000") == nil)
        #expect(RedisEndpoint(":6379") == nil)
    }

    @Test("credentials and a database: ACL user and password (percent-encoded), the default user's password alone; never shown")
    func credentials() throws {
        let acl = try #require(RedisEndpoint("redis://switchboard:s3cr%40t%3Ax@10.0.0.5:6380/2"))
        #expect(acl == RedisEndpoint(host: "10.0.0.5", port: 6380, username: "switchboard", password: "s3cr@t:x", database: 2))
        #expect(acl.handshake == [["AUTH", "switchboard", "s3cr@t:x"], ["SELECT", "2"]])
        #expect(acl.description == "redis://switchboard:***@10.0.0.5:6380/2")
        let legacy = try #require(RedisEndpoint("redis://:pw@cache"))
        #expect(legacy.handshake == [["AUTH", "pw"]])
        #expect(legacy.description == "redis://:***@cache:6379")
        #expect(RedisEndpoint("redis://cache:6379").map(\.handshake) == [])
        #expect(RedisEndpoint("redis://@cache") == nil)
        #expect(RedisEndpoint("redis://user:%zz@cache") == nil)
        #expect(RedisEndpoint("redis://cache/db") == nil)
    }
}

@Suite("Redis connection against a real redis-server", .tags(.redis))
struct RedisConnectionTests {
    @Test("commands sent concurrently are pipelined and each gets its own reply, binary-safe")
    func pipelinedReplies() async throws {
        let redis = try await RedisServer.shared()
        let connection = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "redis-test"))
        defer { connection.close() }
        let key = "rc\(UInt32.random(in: 0...UInt32.max))"
        let replies = try await withThrowingTaskGroup(of: (Int, RedisReply).self) { group in
            for n in 0..<200 {
                group.addTask { (n, try await connection.send("RPUSH", key, "v\(n)")) }
            }
            return try await group.reduce(into: [Int: RedisReply]()) { $0[$1.0] = $1.1 }
        }
        #expect(Set(replies.values.compactMap(\.integer)) == Set<Int64>(1...200), "every push got its own list length")
        #expect(try await connection.send("LLEN", key).integer == 200)
        let binary: [UInt8] = [0, 13, 10, 255, 36]
        _ = try await connection.send([Array("SET".utf8), Array(key.utf8), binary])
        #expect(try await connection.send("STRLEN", key).integer == 5)
        _ = try await connection.send("DEL", key)
    }

    @Test("a Redis that goes away fails commands with an error, and a restarted one is reconnected to by itself")
    func reconnects() async throws {
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let connection = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "redis-test"))
        defer { connection.close() }
        #expect(try await connection.send("PING") == .status("PONG"))
        let before = connection.generation
        redis.kill()
        await #expect(throws: (any Error).self) { _ = try await connection.send("PING") }
        try await redis.launch()
        try await waitUntil { (try? await connection.send("PING")) == .status("PONG") }
        #expect(connection.generation > before, "a new connection is a new generation (presence is restored on it)")
    }
}
