package import Identity

/// Who a push is for.
package enum PushAudience: Hashable, Sendable {
    /// Every connection of one user, wherever they are.
    case user(String)
    /// One connection, on the node that holds it.
    case connection(ConnectionID)
    /// Every connection on every node.
    case everyone
}
