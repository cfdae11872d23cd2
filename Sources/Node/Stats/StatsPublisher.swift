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
    let nodeID: String
    let interval: Duration
    let stats: ClusterStats
    let readiness: Readiness
    let metrics: NodeMetrics
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await publish()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                break
            }
        }
        // Gone from the dashboard at once, not when the key expires.
        try? await stats.store?.remove(node: nodeID)
    }

    /// Takes a snapshot now and stores it.
    func publish() async {
        let ready = readiness.isReady
        let relayUp = readiness.relayIsHealthy
        metrics.ready.record(ready ? 1 : 0)
        metrics.redisUp?.record(relayUp ? 1 : 0)
        let (topics, subscriptions) = (readiness.registry.topicCount, readiness.registry.subscriptionCount)
        metrics.topics.record(topics)
        metrics.topicSubscriptions.record(subscriptions)
        // Read and parsed outside the lock: only the swap of snapshots holds it.
        let totals = MetricTotals(exposition: metrics.exposition())
        let at = WallClock.milliseconds
        let snapshot = stats.latest.withLock { previous in
            let snapshot = NodeStats(
                node: nodeID, atMilliseconds: at, connections: readiness.registry.count, topics: topics, subscriptions: subscriptions,
                ready: ready, draining: readiness.isDraining, redisUp: stats.store == nil ? nil : relayUp,
                metrics: totals, previous: previous
            )
            previous = snapshot
            return snapshot
        }
        guard let store = stats.store, let json = try? snapshot.value.plainJSONBytes() else { return }
        do {
            try await store.store(node: snapshot.node, snapshot: json, ttl: max(interval * 5, .seconds(3)))
        } catch {
            logger.debug("stats snapshot not stored", metadata: ["error": "\(error)"])
        }
    }
}
