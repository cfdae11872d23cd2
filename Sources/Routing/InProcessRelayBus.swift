import Synchronization

/// Relay between nodes of one process: the embedded default, and what multi-node unit
/// tests use. Delivery is synchronous, so order is kept trivially.
public final class InProcessRelayBus: RelayBus {
    private let nodes = Mutex<[String: any LocalDelivery]>([:])

    public init() {}

    public func send(_ message: RelayMessage, to nodeID: String) async throws -> Bool {
        guard let delivery = nodes.withLock({ $0[nodeID] }) else { return false }
        _ = delivery.handle(message.content, for: message.audience)
        return true
    }

    public func broadcast(_ message: RelayMessage) async throws -> Int {
        let others = nodes.withLock { $0.filter { $0.key != message.originNodeID }.map(\.value) }
        for delivery in others {
            _ = delivery.handle(message.content, for: message.audience)
        }
        return others.count
    }

    public func attach(nodeID: String, delivery: any LocalDelivery) async throws {
        nodes.withLock { $0[nodeID] = delivery }
    }

    public func detach(nodeID: String) async {
        _ = nodes.withLock { $0.removeValue(forKey: nodeID) }
    }
}
