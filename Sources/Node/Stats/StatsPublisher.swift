import CoreMetrics
import Essentials
import Logging
import Presence
import RedisClient
import Routing
import ServiceLifecycle
import Synchronization

/// Takes the node's stats snapshot every `stats-interval`, keeps the latest, and in a
/// cluster stores it in Redis (`stats:<node>`, expiring after five intervals) so that any
/// node can show every node on the dashboard. One small `SET` a second per node: nothing
/// on the per-message path.
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
        if let redis = node.redis {
            let key = keys.stats(node.configuration.nodeID)
            _ = try? await redis.send(key: key, ["DEL", key])
        }
    }

    private var keys: PresenceKeys { node.statsKeys }

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
                ready: node.isReady, draining: node.registry.isDraining, redisUp: node.redis == nil ? nil : node.bus.isHealthy,
                metrics: metrics, previous: previous
            )
            previous = stats
            return stats
        }
        guard let redis = node.redis, let json = try? stats.value.plainJSONBytes() else { return }
        let ttl = max(node.configuration.statsInterval * 5, .seconds(3))
        do {
            let key = Array(keys.stats(stats.node).utf8)
            _ = try await redis.send(key: key, [Array("SET".utf8), key, json, Array("PX".utf8), Array("\(ttl.milliseconds)".utf8)])
        } catch {
            node.logger.debug("stats snapshot not stored", metadata: ["error": "\(error)"])
        }
    }
}
