package import NIOCore

/// Carries pushes between nodes.
///
/// A node holds a user while one of the user's connections is on it (`hold`/`release`,
/// counted per connection): a push to the user reaches every node holding them, with
/// no lookup first. Relay is at-most-once, and keeps order per (origin connection's
/// event loop, target node). Futures complete on the caller's event loop when it runs on
/// one. Implementations: `InProcessRelayBus` (nodes in one process) and the Redis pub/sub
/// bus (a cluster).
package protocol RelayBus: Sendable {
    /// Hands `message` to every node that holds `user`, the origin included; the future
    /// gives how many nodes that was.
    func send(_ message: RelayMessage, toUser user: String) -> EventLoopFuture<Int>
    /// Hands `message` to node `nodeID`; false when no such node is listening.
    func send(_ message: RelayMessage, to nodeID: String) -> EventLoopFuture<Bool>
    /// Hands `message` to every node but its origin; how many received it.
    func broadcast(_ message: RelayMessage) -> EventLoopFuture<Int>
    /// `nodeID` holds one more connection of `user`; returns once pushes to the user from
    /// any node reach this one (what a client's welcome waits for).
    func hold(user: String, nodeID: String) async
    /// `nodeID` holds one connection of `user` fewer.
    func release(user: String, nodeID: String)
    /// Starts handing messages for `nodeID` (its users', its own, broadcasts) to `delivery`.
    func attach(nodeID: String, delivery: any LocalDelivery) async throws
    /// Stops handing messages to `nodeID`.
    func detach(nodeID: String) async
    /// Whether cross-node delivery works right now (for `/readyz`).
    var isHealthy: Bool { get }
}

extension RelayBus {
    package var isHealthy: Bool { true }
}
