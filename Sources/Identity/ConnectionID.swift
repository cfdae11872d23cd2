/// Names one client connection anywhere in the cluster.
///
/// The node id makes it unique across nodes without coordination; the sequence makes
/// it unique within a node's lifetime.
package struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    package let nodeID: String
    package let sequence: UInt64

    package init(nodeID: String, sequence: UInt64) {
        self.nodeID = nodeID
        self.sequence = sequence
    }

    /// Parses the `node/sequence` form that `description` prints.
    package init?(_ text: some StringProtocol) {
        guard let slash = text.lastIndex(of: "/"), let sequence = UInt64(text[text.index(after: slash)...]) else {
            return nil
        }
        let node = text[..<slash]
        guard !node.isEmpty else { return nil }
        self.init(nodeID: String(node), sequence: sequence)
    }

    package var description: String { "\(nodeID)/\(sequence)" }
}
