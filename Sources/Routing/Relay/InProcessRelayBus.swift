import Synchronization

/// Relay between nodes of one process: the embedded default, and what multi-node unit
/// tests use. Delivery is synchronous, so order is kept trivially.
package final class InProcessRelayBus: RelayBus {
    private let nodes = Mutex<[String: any LocalDelivery]>([:])

    package init() {}

    package func send(_ message: RelayMessage, to nodeID: String) async throws -> Bool {
        guard let delivery = nodes.withLock({ $0[nodeID] }) else { return false }
        _ = delivery.handle(message.content, for: message.audience)
        return true
    }

    package func broadcast(_ message: RelayMessage) async throws -> Int {
        let others = nodes.withLock { $0.filter { $0.key != message.originNodeID }.map(\.value) }
        for delivery in others {
            _ = delivery.handle(message.content, for: message.audience)
        }
        return others.count
    }

    package func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        nodes.withLock { $0[nodeID] = delivery }
    }

    package func detach(nodeID: String) async {
        _ = nodes.withLock { $0.removeValue(forKey: nodeID) }
    }
}
