/// A subscribe's answer in a namespace that keeps history: where the topic's publishes
/// continue, how many missed ones follow, and — when a position was given — whether all of
/// them could be (false: some are gone; fetch current state from the backends).
public struct TopicSubscribed: Sendable, Equatable {
    public let position: InboxPosition
    public let replayed: Int
    /// Nil when no position was given.
    public let recovered: Bool?
}
