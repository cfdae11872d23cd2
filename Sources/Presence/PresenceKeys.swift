/// Presence's Redis keys, under the cluster's prefix so that several clusters can share a
/// Redis (relay's channels are `RelayChannels`, under the same prefix). docs/redis.md
/// lists them.
package struct PresenceKeys: Sendable {
    package let prefix: String

    package init(prefix: String = "sb:") {
        self.prefix = prefix
    }

    /// HASH connection id → node id: where one user is connected.
    package func user(_ user: String) -> String { "\(prefix)user:\(user)" }
    /// SET of "connection\nuser": what one node holds, for its sweep.
    package func nodeConnections(_ node: String) -> String { "\(prefix)node:\(node):conns" }
    /// STRING with a TTL: the node is alive while it exists.
    package func lease(_ node: String) -> String { "\(prefix)lease:\(node)" }
    /// ZSET node id → last heartbeat (ms): where live nodes find expired ones.
    package var nodes: String { "\(prefix)nodes" }
    /// STRING (JSON) with a TTL: the node's latest stats snapshot, for the dashboard.
    package func stats(_ node: String) -> String { "\(prefix)stats:\(node)" }
}
