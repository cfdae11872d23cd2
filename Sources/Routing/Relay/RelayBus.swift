/// Carries pushes between nodes.
///
/// Relay is at-most-once, and keeps order per (origin node, target node). Implementations:
/// `InProcessRelayBus` (nodes in one process) and the Redis pub/sub bus (a cluster).
package protocol RelayBus: Sendable {
    /// Hands `message` to node `nodeID`; false when no such node is listening.
    func send(_ message: RelayMessage, to nodeID: String) async throws -> Bool
    /// Hands `message` to every node but its origin; returns how many received it.
    func broadcast(_ message: RelayMessage) async throws -> Int
    /// Starts handing messages for `nodeID`, and broadcasts, to `delivery`.
    func attach(nodeID: String, delivery: any LocalDelivery) async throws
    /// Stops handing messages to `nodeID`.
    func detach(nodeID: String) async
    /// Whether cross-node delivery works right now (for `/readyz`).
    var isHealthy: Bool { get }
}

extension RelayBus {
    package var isHealthy: Bool { true }
}
