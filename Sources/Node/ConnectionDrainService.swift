import Logging
import ServiceLifecycle

/// Joins the relay bus at start; at shutdown, stops new connections, closes the open
/// ones with 1001 (their queued frames are flushed first), and waits for them to go.
struct ConnectionDrainService: Service {
    let node: GatewayNode

    func run() async throws {
        try await node.bus.attach(nodeID: node.configuration.nodeID, delivery: node.registry)
        try? await gracefulShutdown()
        await drain()
        await node.bus.detach(nodeID: node.configuration.nodeID)
    }

    private func drain() async {
        let connections = node.registry.startDraining()
        node.logger.info("draining", metadata: ["connections": "\(connections.count)"])
        for connection in connections {
            connection.queue.finish(.shutdown)
        }
        let deadline = ContinuousClock.now.advanced(by: node.configuration.drainTimeout)
        while node.registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = node.registry.count
        if left > 0 {
            node.logger.warning("drain timed out; dropping sockets", metadata: ["connections": "\(left)"])
        }
    }
}
