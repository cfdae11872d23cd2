import Synchronization
import Presence
import RedisClient
import SwiftProtobuf

extension GatewayNode {
    var statsKeys: PresenceKeys { PresenceKeys(prefix: configuration.redisPrefix) }

    /// Every live node's latest snapshot, ordered by node id: from Redis in a cluster
    /// (the nodes with a lease and a snapshot), else this node's own.
    func clusterStats() async throws -> [Google_Protobuf_Value] {
        guard let redis else { return latestStats.withLock { $0 }.map { [$0.value] } ?? [] }
        let members = try await redis.primary.send(["ZRANGE", statsKeys.nodes, "0", "-1"]).array?.compactMap(\.string) ?? []
        guard !members.isEmpty else { return [] }
        let snapshots = try await redis.primary.send(["MGET"] + members.sorted().map { statsKeys.stats($0) }).array ?? []
        return snapshots.compactMap { reply in
            guard case .string(let bytes) = reply else { return nil }
            return try? Google_Protobuf_Value(jsonUTF8Bytes: bytes)
        }
    }
}
