import Presence
import Essentials
import RedisClient

/// The nodes' stats snapshots in Redis: `stats:<node>` strings with a TTL, listed through
/// the leased nodes' set (docs/redis.md).
package struct RedisStatsStore: StatsStore {
    let redis: RedisConnectionGroup
    let keys: PresenceKeys

    package func store(node: String, snapshot: [UInt8], ttl: Duration) async throws {
        let key = Array(keys.stats(node).utf8)
        _ = try await redis.send(key: key, [Array("SET".utf8), key, snapshot, Array("PX".utf8), Array("\(ttl.milliseconds)".utf8)])
    }

    package func remove(node: String) async throws {
        let key = keys.stats(node)
        _ = try await redis.send(key: key, ["DEL", key])
    }

    package func snapshots() async throws -> [[UInt8]] {
        let members = try await redis.send(key: keys.nodes, ["ZRANGE", keys.nodes, "0", "-1"]).array?.compactMap(\.string).sorted() ?? []
        guard !members.isEmpty else { return [] }
        let replies: [RedisReply]
        if redis.isCluster {
            // Each node's snapshot is in the node's slot: one GET each, together.
            replies = try await redis.sendAll(members.map { member in
                let key = Array(keys.stats(member).utf8)
                return (key, [Array("GET".utf8), key])
            })
        } else {
            replies = try await redis.send(key: keys.nodes, ["MGET"] + members.map { keys.stats($0) }).array ?? []
        }
        return replies.compactMap { reply in
            guard case .string(let bytes) = reply else { return nil }
            return bytes
        }
    }
}
