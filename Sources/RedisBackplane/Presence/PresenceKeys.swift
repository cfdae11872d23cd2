import Essentials

/// Presence's Redis keys, under the cluster's prefix so that several clusters can share a
/// Redis (relay's channels are `RelayChannels`, under the same prefix). docs/redis.md
/// lists them.
///
/// `hashTagged` (a Redis Cluster): user and node names are written as `{hash tags}`, so
/// everything about one user lives in the user's slot, everything about one topic in the
/// topic's, and everything about one node — its lease and its sets — in the node's.
package struct PresenceKeys: Sendable {
    package let prefix: String
    package let hashTagged: Bool

    package init(prefix: String = "sb:", hashTagged: Bool = false) {
        self.prefix = prefix
        self.hashTagged = hashTagged
    }

    private func tag(_ name: String) -> String { hashTagged ? RedisHashTag.wrap(name) : name }

    /// HASH connection id → node id: where one user is connected.
    package func user(_ user: String) -> String { "\(prefix)user:\(tag(user))" }
    /// SET of "connection\nuser": what one node holds, for its sweep.
    package func nodeConnections(_ node: String) -> String { "\(prefix)node:\(tag(node)):conns" }
    /// HASH connection id → user: who is subscribed to a topic whose namespace keeps presence.
    package func topicMembers(_ topic: String) -> String { "\(prefix)topic-members:\(tag(topic))" }
    /// SET of "connection\ntopic": what one node holds of topic presence, for its sweep.
    package func nodeTopicMembers(_ node: String) -> String { "\(prefix)node:\(tag(node)):topic-members" }
    /// STRING with a TTL: the node is alive while it exists.
    package func lease(_ node: String) -> String { "\(prefix)lease:\(tag(node))" }
    /// ZSET node id → last heartbeat (ms): where live nodes find expired ones.
    package var nodes: String { "\(prefix)nodes" }
    /// STRING (JSON) with a TTL: the node's latest stats snapshot, for the dashboard.
    package func stats(_ node: String) -> String { "\(prefix)stats:\(tag(node))" }
}
