/// What became of a `send`: how many connections on the sender's node got it, and to how
/// many other nodes it was relayed.
public struct SendOutcome: Sendable, Equatable {
    public let delivered: Int
    public let relayedNodes: Int
    /// A durable push (its kind is one of the node's `durable-kinds`): kept in the
    /// receiver's inbox at `position`, and delivered at the receiver's next resume if it
    /// was offline.
    public let position: InboxPosition?

    public var stored: Bool { position != nil }
}
