package import Identity

/// Who a push is for.
package enum PushAudience: Hashable, Sendable {
    /// Every connection of one user, wherever they are.
    case user(String)
    /// One connection, on the node that holds it.
    case connection(ConnectionID)
    /// Every connection on every node.
    case everyone
    /// Every connection subscribed to a topic, on every node; but `except` (a publisher
    /// whose namespace does not echo).
    case topic(String, except: ConnectionID? = nil)
}
