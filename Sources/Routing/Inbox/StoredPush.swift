/// A durable push once its inbox took it (or handed on without one: see `RelayBus.store`).
package struct StoredPush: Sendable, Equatable {
    /// Nil when the user had no inbox to keep it in.
    package var position: InboxPosition?
    /// Nodes that held the user and were handed the push, the origin included.
    package var receivers: Int

    package init(position: InboxPosition?, receivers: Int) {
        self.position = position
        self.receivers = receivers
    }
}
