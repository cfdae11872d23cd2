package import Identity

/// The node's own connections, as routing sees them.
///
/// Delivery only queues: it never waits for a socket, so a slow client cannot hold up
/// the router.
package protocol LocalDelivery: Sendable {
    /// Queues `push` to this node's connections in `audience`; returns how many.
    func deliver(_ push: PushPayload, to audience: PushAudience) -> Int
    /// Closes this node's connections in `audience` (4003, after what is queued); how many.
    func disconnect(_ audience: PushAudience, reason: String) -> Int
    /// Whether a connection of `user` is on this node.
    func holds(user: String) -> Bool
    /// How many of `user`'s connections are on this node.
    func count(of user: String) -> Int
    /// Whether a connection on this node is subscribed to `topic`.
    func holds(topic: String) -> Bool
    /// How many connections on this node are subscribed to `topic`, `except` left out.
    func count(ofTopic topic: String, except: ConnectionID?) -> Int
    /// Subscribes this node's connections in `audience` to `topic` (or ends that), each in
    /// turn with its other work; how many were told.
    func change(_ audience: PushAudience, topic: String, subscribe: Bool) -> Int
    /// The relay to `user`'s connections here was cut and is whole again (the node's
    /// subscriber reconnected and the user's channel is acknowledged once more): a durable
    /// push stored meanwhile reached none of them, and they fetch it from the inbox.
    func relayResumed(user: String)
}

extension LocalDelivery {
    /// Nothing to fetch for a delivery that keeps no inbox cursors.
    package func relayResumed(user: String) {}
}
