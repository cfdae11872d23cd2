import Synchronization

/// Relay between nodes of one process: the embedded default, and what multi-node unit
/// tests use. Delivery is synchronous, so order is kept trivially.
package final class InProcessRelayBus: RelayBus {
    private struct State {
        var nodes: [String: any LocalDelivery] = [:]
        /// user → node → connections held.
        var holders: [String: [String: Int]] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package func send(_ message: RelayMessage, toUser user: String, then answer: @escaping Answer<Int>) {
        let targets = state.withLock { state in
            (state.holders[user] ?? [:]).keys.compactMap { node in state.nodes[node].map { (node, $0) } }
        }
        for (node, delivery) in targets where node != message.originNodeID {
            _ = delivery.handle(message.content, for: message.audience)
        }
        answer(.success(targets.count))
    }

    package func send(_ message: RelayMessage, to nodeID: String, then answer: @escaping Answer<Bool>) {
        guard let delivery = state.withLock({ $0.nodes[nodeID] }) else { return answer(.success(false)) }
        _ = delivery.handle(message.content, for: message.audience)
        answer(.success(true))
    }

    package func broadcast(_ message: RelayMessage, then answer: @escaping Answer<Int>) {
        let others = state.withLock { $0.nodes.filter { $0.key != message.originNodeID }.map(\.value) }
        for delivery in others {
            _ = delivery.handle(message.content, for: message.audience)
        }
        answer(.success(others.count))
    }

    package func hold(user: String, nodeID: String) async {
        state.withLock { $0.holders[user, default: [:]][nodeID, default: 0] += 1 }
    }

    package func release(user: String, nodeID: String) {
        state.withLock { state in
            guard let count = state.holders[user]?[nodeID] else { return }
            state.holders[user]?[nodeID] = count > 1 ? count - 1 : nil
            if state.holders[user]?.isEmpty == true { state.holders[user] = nil }
        }
    }

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        state.withLock { $0.nodes[nodeID] = delivery }
    }

    package func detach(nodeID: String) async {
        _ = state.withLock { $0.nodes.removeValue(forKey: nodeID) }
    }
}
