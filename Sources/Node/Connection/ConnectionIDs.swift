import Identity
import Presence
import Synchronization

/// Hands out this node's connection ids: the node id and a sequence, unique in the cluster.
final class ConnectionIDs: Sendable {
    private let nodeID: String
    private let sequence = Atomic<UInt64>(0)

    init(nodeID: String) {
        self.nodeID = nodeID
    }

    func next() -> ConnectionID {
        ConnectionID(nodeID: nodeID, sequence: sequence.add(1, ordering: .relaxed).newValue)
    }
}
