import Synchronization
import Presence
import RedisClient
import SwiftProtobuf

extension GatewayNode {
    var statsKeys: PresenceKeys { PresenceKeys(prefix: configuration.redisPrefix, hashTagged: redis?.isCluster ?? false) }

    /// Every live node's latest snapshot, ordered by node id: from Redis in a cluster
    /// (the nodes with a lease and a snapshot), else this node's own.
    func clusterStats() async throws -> [Google_Protobuf_Value] {
        guard let redis else { return latestStats.withLock { $0 }.map { [$0.value] } ?? [] }
        let keys = statsKeys
        let members = try await redis.send(key: keys.nodes, ["ZRANGE", keys.nodes, "0", "-1"]).array?.compactMap(\.string).sorted() ?? []
        guard !members.isEmpty else { return [] }
        let snapshots: [RedisReply]
        if redis.isCluster {
            // Each node's snapshot is in the node's slot: one GET each, together.
            snapshots = try await redis.sendAll(members.map { member in
                let key = Array(keys.stats(member).utf8)
                return (key, [Array("GET".utf8), key])
            })
        } else {
            snapshots = try await redis.send(key: keys.nodes, ["MGET"] + members.map { keys.stats($0) }).array ?? []
        }
        return snapshots.compactMap { reply in
            guard case .string(let bytes) = reply else { return nil }
            return try? Google_Protobuf_Value(jsonUTF8Bytes: bytes)
        }
    }
}
