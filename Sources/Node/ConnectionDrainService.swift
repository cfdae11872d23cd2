import Logging
import ServiceLifecycle

/// Joins the relay bus at start. At shutdown the node stops taking clients (and `/readyz`
/// says so), then closes the open connections a batch at a time over three quarters of
/// the drain window, with 1012 after their queued frames, so that they reconnect to
/// other nodes spread out instead of all at once; it waits for them to go until the
/// window is nearly over. Presence goes with each connection, and the lease service
/// clears whatever is left.
struct ConnectionDrainService: Service {
    let node: GatewayNode
    /// Time between two batches of closes.
    static let step: Duration = .milliseconds(50)

    func run() async throws {
        try await node.bus.attach(nodeID: node.configuration.nodeID, delivery: RelayedDelivery(local: node.registry, metrics: node.metrics))
        try? await gracefulShutdown()
        await drain()
        await node.bus.detach(nodeID: node.configuration.nodeID)
    }

    private func drain() async {
        let window = node.configuration.drainWindow
        let start = ContinuousClock.now
        let connections = node.registry.startDraining()
        node.logger.info("draining", metadata: ["connections": "\(connections.count)", "window": "\(window)"])
        let steps = max(Int((window * 3 / 4) / Self.step), 1)
        let perStep = (connections.count + steps - 1) / steps
        var next = connections[...]
        var step = 0
        while !next.isEmpty {
            for connection in next.prefix(perStep) {
                connection.queue.finish(.shutdown)
            }
            next = next.dropFirst(perStep)
            step += 1
            if !next.isEmpty { try? await Task.sleep(until: start.advanced(by: Self.step * step)) }
        }
        // The last 15% of the window is for the rest of shutdown (listeners, presence, lease).
        let deadline = start.advanced(by: window * 85 / 100)
        while node.registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Whoever is left has not taken its close (a client that stopped reading, say):
        // drop the socket so that the node can exit inside the window.
        let left = node.registry.all()
        if !left.isEmpty {
            node.logger.warning("drain window over; dropping sockets", metadata: ["connections": "\(left.count)"])
            for connection in left {
                connection.markClosing(.shutdown)
                connection.channel.close(promise: nil)
            }
        }
    }
}
