package import Logging
package import Presence
import RedisClient
package import Routing
package import ServiceLifecycle

/// What a node needs of the cluster, kept in one Redis or Redis Cluster: presence (users'
/// and topics'), the
/// relay bus (with the durable inbox), the node's lease and the dashboard's stats — built
/// over one group of command connections, with one prefix and one hash-tag rule for every
/// key and channel. `owner` closes the connections: start it before the others, so that
/// a service group stops it last.
package struct RedisBackplane: Sendable {
    package let presence: RedisPresenceDirectory
    package let bus: RedisRelayBus
    package let lease: NodeLeaseService<ContinuousClock>
    package let stats: RedisStatsStore
    package let userTopics: RedisUserTopicStore
    package let topicPresence: RedisTopicPresence
    package let owner: any Service

    /// `timeout` bounds connects and each command (a Redis that hangs); `holder` is what
    /// the lease names this process by; `localEntries` what the node holds, for restoring
    /// its presence after Redis lost it, and `localTopicEntries` its topic presence.
    package init(
        endpoint: BackplaneEndpoint, timeout: Duration, prefix: String, nodeID: String, inbox: InboxPolicy,
        holder: String, leaseInterval: Duration, leaseTTL: Duration, subscriptionTTL: Duration,
        localEntries: @escaping @Sendable () -> [PresenceEntry],
        localTopicEntries: @escaping @Sendable () -> [(topic: String, entry: PresenceEntry)], logger: Logger
    ) {
        var endpoint = endpoint.redis
        endpoint.commandTimeout = timeout
        endpoint.connectTimeout = timeout
        let redis = RedisConnectionGroup(endpoint: endpoint, logger: logger)
        let keys = PresenceKeys(prefix: prefix, hashTagged: redis.isCluster)
        presence = RedisPresenceDirectory(redis: redis, keys: keys)
        let channels = RelayChannels(prefix: prefix, hashTagged: redis.isCluster)
        bus = RedisRelayBus(redis: redis, channels: channels, nodeID: nodeID, inbox: inbox, logger: logger)
        userTopics = RedisUserTopicStore(redis: redis, channels: channels, ttl: subscriptionTTL)
        topicPresence = RedisTopicPresence(redis: redis, keys: keys)
        lease = NodeLeaseService(
            nodeID: nodeID, holder: holder, directory: presence, interval: leaseInterval, ttl: leaseTTL, localEntries: localEntries, logger: logger,
            topicPresence: topicPresence, localTopicEntries: localTopicEntries
        )
        stats = RedisStatsStore(redis: redis, keys: keys)
        owner = RedisConnectionService(connection: redis)
    }
}
