import Identity

/// Delivers a push, or a disconnect, to its audience: locally at once, and through the
/// relay bus to every other node that holds part of it — one publish, no lookup first.
package struct PushRouter: Sendable {
    package typealias Answer = @Sendable (Result<PushOutcome, PushDeliveryError>) -> Void

    package let nodeID: String
    private let local: any LocalDelivery
    private let bus: any RelayBus

    package init(nodeID: String, local: any LocalDelivery, bus: any RelayBus) {
        self.nodeID = nodeID
        self.local = local
        self.bus = bus
    }

    /// Answers on the caller's event loop when it runs on one (a client's send). A
    /// `durable` push to a user goes through the user's inbox (other audiences have none);
    /// `beginsInbox`: also when the user has none yet (see `RelayBus.store`). A publish to
    /// a topic with `history` goes through the topic's history.
    package func push(
        _ push: PushPayload, to audience: PushAudience, durable: Bool = false, beginsInbox: Bool = false, history: TopicHistory? = nil,
        then answer: @escaping Answer
    ) {
        if durable, case .user(let user) = audience {
            return store(push, for: user, beginsInbox: beginsInbox, then: answer)
        }
        if let history, case .topic(let topic, let except) = audience {
            let here = local.count(ofTopic: topic, except: except)
            // The store's publish reaches this node when it is interested, echo or not.
            let heldHere = here > 0 || local.holds(topic: topic)
            return bus.store(push, from: nodeID, forTopic: topic, except: except, history: history) { result in
                answer(Self.storedOutcome(result, here: here, heldHere: heldHere))
            }
        }
        route(.push(push), to: audience, then: answer)
    }

    /// Stored first, then delivered everywhere — here too — from the inbox's publish, in
    /// the inbox's order.
    private func store(_ push: PushPayload, for user: String, beginsInbox: Bool, then answer: @escaping Answer) {
        let here = local.count(of: user)
        bus.store(push, from: nodeID, forUser: user, beginsInbox: beginsInbox) { result in
            answer(Self.storedOutcome(result, here: here, heldHere: here > 0))
        }
    }

    /// A stored push's outcome: `here` connections on this node, and the other nodes the
    /// store's publish reached (this one among its receivers when `heldHere`).
    private static func storedOutcome(_ result: Result<StoredPush, any Error>, here: Int, heldHere: Bool) -> Result<PushOutcome, PushDeliveryError> {
        switch result {
        case .success(let stored):
            let others = max(stored.receivers - (heldHere ? 1 : 0), 0)
            return .success(PushOutcome(localConnections: here, relayedNodes: others, stored: stored.position))
        case .failure(let error):
            return .failure(.notStored(underlying: error))
        }
    }

    /// Closes a user's connections on every node (4003 with `reason`).
    package func disconnect(user: String, reason: String, then answer: @escaping Answer) {
        route(.disconnect(reason: reason), to: .user(user), then: answer)
    }

    /// Subscribes the connections of a user (or one connection) to `topic` on every node,
    /// or ends that.
    package func change(_ audience: PushAudience, topic: String, subscribe: Bool, then answer: @escaping Answer) {
        route(subscribe ? .subscribe(topic: topic) : .unsubscribe(topic: topic), to: audience, then: answer)
    }

    private func route(_ content: RelayMessage.Content, to audience: PushAudience, then answer: @escaping Answer) {
        let message = RelayMessage(originNodeID: nodeID, audience: audience, content: content)
        switch audience {
        case .user(let user):
            let delivered = local.handle(content, for: audience)
            // The publish's receivers count this node when it holds the user (asked only
            // when nothing was delivered here: a queue may have shed it).
            let heldHere = delivered > 0 || local.holds(user: user)
            bus.send(message, toUser: user) { result in
                answer(Self.outcome(delivered, result.map { max($0 - (heldHere ? 1 : 0), 0) }))
            }
        case .topic(let topic, _):
            let delivered = local.handle(content, for: audience)
            // As for a user: the receivers count this node when it is interested (a
            // publisher that gets no echo may be its only subscriber).
            let heldHere = delivered > 0 || local.holds(topic: topic)
            bus.send(message, toTopic: topic) { result in
                answer(Self.outcome(delivered, result.map { max($0 - (heldHere ? 1 : 0), 0) }))
            }
        case .connection(let connection) where connection.nodeID == nodeID:
            answer(.success(PushOutcome(localConnections: local.handle(content, for: audience), relayedNodes: 0)))
        case .connection(let connection):
            bus.send(message, to: connection.nodeID) { result in answer(Self.outcome(0, result.map { $0 ? 1 : 0 })) }
        case .everyone:
            let delivered = local.handle(content, for: audience)
            bus.broadcast(message) { result in answer(Self.outcome(delivered, result)) }
        }
    }

    private static func outcome(_ delivered: Int, _ relayed: Result<Int, any Error>) -> Result<PushOutcome, PushDeliveryError> {
        let local = PushOutcome(localConnections: delivered, relayedNodes: 0)
        switch relayed {
        case .success(let nodes): return .success(PushOutcome(localConnections: delivered, relayedNodes: nodes))
        case .failure(let error): return .failure(.crossNodeUnavailable(outcome: local, underlying: error))
        }
    }
}
