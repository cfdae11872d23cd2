import Presence
import Synchronization
import SwiftProtobuf

extension GatewayNode {
    /// Every live node's latest snapshot, ordered by node id: from the cluster's stats
    /// store (the nodes with a lease and a snapshot), else this node's own.
    func clusterStats() async throws -> [Google_Protobuf_Value] {
        guard let stats else { return latestStats.withLock { $0 }.map { [$0.value] } ?? [] }
        return try await stats.snapshots().compactMap { try? Google_Protobuf_Value(jsonUTF8Bytes: $0) }
    }
}
