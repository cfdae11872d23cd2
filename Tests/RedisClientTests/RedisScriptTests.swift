import Logging
import RedisClient
import Testing
import TestSupport

@Suite("Lua scripts by SHA against a real redis-server", .tags(.redis))
struct RedisScriptTests {
    private func run(_ script: RedisScript, _ key: String, on connection: RedisConnection) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            script.run([Array("1".utf8), Array(key.utf8)], on: connection) { continuation.resume(with: $0.mapError { $0 }) }
        }
    }

    @Test("the first call ships the text, later ones the SHA; after Redis lost its script cache, calls still work")
    func evalshaWithFallback() async throws {
        // Its own server: INFO's counts must not include other tests' scripts.
        let redis = try await RedisServer.start()
        defer { redis.kill() }
        let connection = RedisConnection(endpoint: redis.endpoint, logger: Logger(label: "script-test"))
        defer { connection.close() }
        let key = "rs\(UInt32.random(in: 0...UInt32.max))"
        let script = RedisScript("return redis.call('INCR', KEYS[1])")
        #expect(try await run(script, key, on: connection) == .integer(1))
        let evalsBefore = try await Self.calls("evalsha", on: connection)
        #expect(try await run(script, key, on: connection) == .integer(2))
        #expect(try await Self.calls("evalsha", on: connection) == evalsBefore + 1, "sent by its SHA once Redis said it")
        _ = try await connection.send("SCRIPT", "FLUSH")
        #expect(try await run(script, key, on: connection) == .integer(3), "NOSCRIPT: sent again as EVAL")
        #expect(try await run(script, key, on: connection) == .integer(4))
        _ = try await connection.send("DEL", key)
    }

    /// How many calls of `command` Redis has answered (INFO commandstats).
    private static func calls(_ command: String, on connection: RedisConnection) async throws -> Int {
        let info = try await connection.send("INFO", "commandstats").string ?? ""
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_\(command):") }),
              let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first
        else { return 0 }
        return Int(calls) ?? 0
    }
}
