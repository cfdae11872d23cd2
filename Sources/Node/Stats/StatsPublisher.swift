import CoreMetrics
import Essentials
import Logging
import Presence
import Routing
import ServiceLifecycle
import Synchronization

/// Takes the node's stats snapshot every `stats-interval`, keeps the latest, and in a
/// cluster stores it in the cluster's stats store (expiring after five intervals) so that
/// any node can show every node on the dashboard. One small write a second per node:
/// nothing on the per-message path.
struct StatsPublisher: Service {
    let node: GatewayNode

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await publish()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.node.configuration.statsInterval) }
            } catch {
                break
            }
        }
        // Gone from the dashboard at once, not when the key expires.
        try? await node.stats?.remove(node: node.configuration.nodeID)
    }

    /// Takes a snapshot now and stores it.
    func publish() async {
        let node = self.node
        node.metrics.ready.record(node.isReady ? 1 : 0)
        node.metrics.redisUp?.record(node.bus.isHealthy ? 1 : 0)
        // Read and parsed outside the lock: only the swap of snapshots holds it.
        let metrics = MetricTotals(exposition: node.metrics.exposition())
        let at = WallClock.milliseconds
        let stats = node.latestStats.withLock { previous in
            let stats = NodeStats(
                node: node.configuration.nodeID, atMilliseconds: at, connections: node.connectionCount,
                ready: node.isReady, draining: node.registry.isDraining, redisUp: node.stats == nil ? nil : node.bus.isHealthy,
                metrics: metrics, previous: previous
            )
            previous = stats
            return stats
        }
        guard let store = node.stats, let json = try? stats.value.plainJSONBytes() else { return }
        do {
            try await store.store(node: stats.node, snapshot: json, ttl: max(node.configuration.statsInterval * 5, .seconds(3)))
        } catch {
            node.logger.debug("stats snapshot not stored", metadata: ["error": "\(error)"])
        }
    }
}
