import Essentials
import Logging
import RedisClient
import Testing
import TestSupport

/// The cluster client against a real Redis Cluster (6 redis-server processes): commands
/// reach the shard that serves their key, a migrating slot's ASK and a moved slot's MOVED
/// are followed, and the topology is learned again.
@Suite("Redis Cluster client against a real cluster", .tags(.redis), .timeLimit(.minutes(3)))
struct RedisClusterTests {
    @Test("every key reaches the primary of its slot; a multi-key script within one hash tag runs")
    func routing() async throws {
        let cluster = try await TestRedisCluster.shared()
        let redis = RedisConnectionGroup(endpoint: cluster.endpoint, logger: Logger(label: "cluster-test"))
        defer { redis.close() }
        let tag = "rt\(UInt32.random(in: 0...UInt32.max))"
        var shardsUsed = Set<Int>()
        let topology = try await cluster.topology()
        for index in 0..<30 {
            let key = "\(tag):\(index)"
            _ = try await redis.send(key: key, ["SET", key, "\(index)"])
            #expect(try await redis.send(key: key, ["GET", key]).string == "\(index)")
            let owner = try await cluster.primary(for: key)
            let direct = RedisConnection(endpoint: owner.endpoint, logger: Logger(label: "direct"))
            #expect(try await direct.send("EXISTS", key) == .integer(1), "stored on the primary serving its slot")
            direct.close()
            shardsUsed.insert(try #require(topology.shardIndex(ofSlot: RedisHashSlot.of(key))))
        }
        #expect(shardsUsed.count == 3, "30 keys spread over the three shards")
        let reply = try await redis.send(key: "{\(tag)}a", [
            "EVAL", "redis.call('SET', KEYS[1], 'x'); redis.call('SET', KEYS[2], 'y'); return 2", "2", "{\(tag)}a", "{\(tag)}b",
        ])
        #expect(reply == .integer(2))
    }

    @Test("a migrating slot answers ASK and the command lands on the importing node; once moved, MOVED is followed and the topology learned")
    func redirects() async throws {
        try await withRedisCluster { cluster in
            let redis = RedisConnectionGroup(endpoint: cluster.endpoint, logger: Logger(label: "cluster-test"))
            defer { redis.close() }
            let key = "{migrating}first"
            let slot = RedisHashSlot.of(key)
            _ = try await redis.send(key: key, ["SET", key, "1"])
            let source = try await cluster.primary(for: key)
            let topology = try await cluster.topology()
            let target = try #require(cluster.servers.first { server in
                server.port != source.port && topology.shards.contains { $0.primary.port == server.port }
            })
            let (from, to) = (RedisConnection(endpoint: source.endpoint, logger: Logger(label: "admin")), RedisConnection(endpoint: target.endpoint, logger: Logger(label: "admin")))
            defer { from.close(); to.close() }
            let fromID = try #require(try await from.send("CLUSTER", "MYID").string)
            let toID = try #require(try await to.send("CLUSTER", "MYID").string)
            _ = try await to.send("CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", fromID)
            _ = try await from.send("CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", toID)

            // A key the source does not have is asked of the importing node.
            let second = "{migrating}second"
            _ = try await redis.send(key: second, ["SET", second, "2"])
            #expect(try await to.send("CLUSTER", "COUNTKEYSINSLOT", "\(slot)") == .integer(1), "stored on the importing node after ASK")
            #expect(try await redis.send(key: key, ["GET", key]).string == "1", "a key still on the source is read there")

            _ = try await from.send("MIGRATE", "127.0.0.1", "\(target.port)", "", "0", "5000", "KEYS", key)
            for server in cluster.servers where topology.shards.contains(where: { $0.primary.port == server.port }) {
                let admin = RedisConnection(endpoint: server.endpoint, logger: Logger(label: "admin"))
                _ = try await admin.send("CLUSTER", "SETSLOT", "\(slot)", "NODE", toID)
                admin.close()
            }
            #expect(try await redis.send(key: key, ["GET", key]).string == "1", "MOVED followed to the new owner")
            #expect(try await redis.send(key: second, ["GET", second]).string == "2")
            try await waitUntil {
                guard let learned = redis.cluster?.topology, let shard = learned.shardIndex(ofSlot: slot) else { return false }
                return learned.shards[shard].primary.port == target.port
            }
        }
    }
}
