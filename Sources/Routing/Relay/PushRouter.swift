package import NIOCore
import NIOPosix
import Presence

/// Delivers a push, or a disconnect, to its audience: locally at once, and through the
/// relay bus to every other node that holds part of it — one publish, no lookup first.
package struct PushRouter: Sendable {
    package let nodeID: String
    private let local: any LocalDelivery
    private let bus: any RelayBus

    package init(nodeID: String, local: any LocalDelivery, bus: any RelayBus) {
        self.nodeID = nodeID
        self.local = local
        self.bus = bus
    }

    /// Completes on the caller's event loop when it runs on one (a client's send).
    package func push(_ push: PushPayload, to audience: PushAudience) -> EventLoopFuture<PushOutcome> {
        route(.push(push), to: audience)
    }

    /// Closes a user's connections on every node (4003 with `reason`).
    package func disconnect(user: String, reason: String) -> EventLoopFuture<PushOutcome> {
        route(.disconnect(reason: reason), to: .user(user))
    }

    private func route(_ content: RelayMessage.Content, to audience: PushAudience) -> EventLoopFuture<PushOutcome> {
        let message = RelayMessage(originNodeID: nodeID, audience: audience, content: content)
        let relayed: EventLoopFuture<Int>
        var outcome = PushOutcome(localConnections: 0, relayedNodes: 0)
        switch audience {
        case .user(let user):
            outcome.localConnections = local.handle(content, for: audience)
            // The publish's receivers count this node when it holds the user.
            let heldHere = local.holds(user: user)
            relayed = bus.send(message, toUser: user).map { max($0 - (heldHere ? 1 : 0), 0) }
        case .connection(let connection) where connection.nodeID == nodeID:
            outcome.localConnections = local.handle(content, for: audience)
            relayed = (MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()).makeSucceededFuture(0)
        case .connection(let connection):
            relayed = bus.send(message, to: connection.nodeID).map { $0 ? 1 : 0 }
        case .everyone:
            outcome.localConnections = local.handle(content, for: audience)
            relayed = bus.broadcast(message)
        }
        let local = outcome
        return relayed.map { nodes in
            var outcome = local
            outcome.relayedNodes = nodes
            return outcome
        }.flatMapErrorThrowing { error in
            throw RoutingError.crossNodeUnavailable(outcome: local, underlying: error)
        }
    }
}
