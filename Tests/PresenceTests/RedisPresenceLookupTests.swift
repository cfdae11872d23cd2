import Identity
import RedisBackplane
import Logging
import Presence
import RedisClient
import Testing
import TestSupport

/// Presence lookups against a real Redis are bounded: a user with hundreds of connections
/// costs one answer of at most the limit, with the total beside it.
@Suite("Bounded presence lookups in Redis", .tags(.redis))
struct RedisPresenceLookupTests {
    @Test("a lookup returns at most its limit of distinct connections and the true total; under the limit, all of them")
    func bounded() async throws {
        let redis = try await RedisServer.shared()
        let connection = RedisConnectionGroup(endpoint: redis.endpoint, logger: Logger(label: "lookup-test"))
        defer { connection.close() }
        let keys = PresenceKeys(prefix: "lookup\(UInt32.random(in: 0...UInt32.max)):")
        let directory = RedisPresenceDirectory(redis: connection, keys: keys)
        for sequence in 1...300 {
            try await directory.announce(PresenceEntry(user: "crowd", connection: ConnectionID(nodeID: "n\(sequence % 3)", sequence: UInt64(sequence))))
        }
        let bounded = try await directory.lookup(user: "crowd", limit: 100)
        #expect(bounded.total == 300)
        #expect(bounded.entries.count == 100)
        #expect(Set(bounded.entries.map(\.connection)).count == 100)
        let all = try await directory.lookup(user: "crowd", limit: 1000)
        #expect(all.total == 300)
        #expect(all.entries.count == 300)
        let nobody = try await directory.lookup(user: "nobody", limit: 10)
        #expect(nobody == PresenceLookup(entries: [], total: 0))
    }
}
