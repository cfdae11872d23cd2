package import Presence
package import SwitchboardProtocol

/// Delivers a push, or a disconnect, to its audience: locally at once, and relayed once
/// per other node that holds part of it.
package struct PushRouter: Sendable {
    package let nodeID: String
    private let local: any LocalDelivery
    private let presence: any PresenceDirectory
    private let bus: any RelayBus

    package init(nodeID: String, local: any LocalDelivery, presence: any PresenceDirectory, bus: any RelayBus) {
        self.nodeID = nodeID
        self.local = local
        self.presence = presence
        self.bus = bus
    }

    package func push(_ push: Switchboard_V1_Push, to audience: PushAudience) async throws -> PushOutcome {
        try await route(.push(push), to: audience)
    }

    /// Closes a user's connections on every node (4003 with `reason`).
    package func disconnect(user: String, reason: String) async throws -> PushOutcome {
        try await route(.disconnect(reason: reason), to: .user(user))
    }

    private func route(_ content: RelayMessage.Content, to audience: PushAudience) async throws -> PushOutcome {
        var outcome = PushOutcome(localConnections: 0, relayedNodes: 0)
        let message = RelayMessage(originNodeID: nodeID, audience: audience, content: content)
        switch audience {
        case .user(let user):
            outcome.localConnections = local.handle(content, for: audience)
            do {
                let remoteNodes = Set(try await presence.lookup(user: user).map(\.nodeID)).subtracting([nodeID])
                for node in remoteNodes.sorted() where try await bus.send(message, to: node) {
                    outcome.relayedNodes += 1
                }
            } catch {
                throw RoutingError.crossNodeUnavailable(outcome: outcome, underlying: error)
            }
        case .connection(let connection) where connection.nodeID == nodeID:
            outcome.localConnections = local.handle(content, for: audience)
        case .connection(let connection):
            do {
                outcome.relayedNodes = try await bus.send(message, to: connection.nodeID) ? 1 : 0
            } catch {
                throw RoutingError.crossNodeUnavailable(outcome: outcome, underlying: error)
            }
        case .everyone:
            outcome.localConnections = local.handle(content, for: audience)
            do {
                outcome.relayedNodes = try await bus.broadcast(message)
            } catch {
                throw RoutingError.crossNodeUnavailable(outcome: outcome, underlying: error)
            }
        }
        return outcome
    }
}
