/// What happened to a push: callers always learn this, never a silent success.
package struct PushOutcome: Hashable, Sendable {
    /// Connections on this node that the push was queued to.
    package var localConnections: Int
    /// Other nodes the push was relayed to (each delivers to its own connections).
    package var relayedNodes: Int
    /// A durable push: where it is in the user's inbox (delivered at the user's next
    /// resume if nobody holds the user now).
    package var stored: InboxPosition?

    package init(localConnections: Int, relayedNodes: Int, stored: InboxPosition? = nil) {
        self.localConnections = localConnections
        self.relayedNodes = relayedNodes
        self.stored = stored
    }

    /// Nobody holds the target and nothing was stored: the push is gone.
    package var isOffline: Bool { localConnections == 0 && relayedNodes == 0 && stored == nil }
}
