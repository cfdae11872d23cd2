/// What happened to a push: callers always learn this, never a silent success.
package struct PushOutcome: Hashable, Sendable {
    /// Connections on this node that the push was queued to.
    package var localConnections: Int
    /// Other nodes the push was relayed to (each delivers to its own connections).
    package var relayedNodes: Int

    package init(localConnections: Int, relayedNodes: Int) {
        self.localConnections = localConnections
        self.relayedNodes = relayedNodes
    }

    /// Nobody holds the target: nothing was delivered or relayed.
    package var isOffline: Bool { localConnections == 0 && relayedNodes == 0 }
}
