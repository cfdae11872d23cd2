/// A durable push once its inbox took it.
package struct StoredPush: Sendable, Equatable {
    package var position: InboxPosition
    /// Nodes that held the user and were handed the push, the origin included.
    package var receivers: Int

    package init(position: InboxPosition, receivers: Int) {
        self.position = position
        self.receivers = receivers
    }
}
