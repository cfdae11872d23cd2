/// A node may not start under an id whose lease another process keeps renewing: the two
/// would share presence, leases and connection ids without anybody noticing.
package struct NodeIDInUse: Error, CustomStringConvertible {
    package let nodeID: String
    /// The lease's value: the other process's host, port and pid.
    package let holder: String

    package init(nodeID: String, holder: String) {
        self.nodeID = nodeID
        self.holder = holder
    }

    package var description: String {
        "node id '\(nodeID)' is in use by a live node (\(holder)); give this node another --node-id (SWITCHBOARD_NODE_ID)"
    }
}
