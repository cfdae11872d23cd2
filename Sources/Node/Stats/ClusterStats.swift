import Presence
import Synchronization
import SwiftProtobuf

/// The dashboard's view of the cluster: this node's latest stats snapshot (kept by
/// `StatsPublisher`) and, in a cluster, the store where every node keeps its own.
final class ClusterStats: Sendable {
    /// Where the cluster's nodes keep their snapshots; nil alone.
    let store: (any StatsStore)?
    /// This node's latest snapshot.
    let latest = Mutex<NodeStats?>(nil)

    init(store: (any StatsStore)?) {
        self.store = store
    }

    /// Every live node's latest snapshot, ordered by node id: from the store (the nodes
    /// with a lease and a snapshot), else this node's own.
    func snapshots() async throws -> [Google_Protobuf_Value] {
        guard let store else { return latest.withLock { $0 }.map { [$0.value] } ?? [] }
        return try await store.snapshots().compactMap { try? Google_Protobuf_Value(jsonUTF8Bytes: $0) }
    }
}
