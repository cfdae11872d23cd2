/// What became of a `send`: how many connections on the sender's node got it, and to how
/// many other nodes it was relayed.
public struct SendOutcome: Sendable, Equatable {
    public let delivered: Int
    public let relayedNodes: Int
}
