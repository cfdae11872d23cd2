import Essentials
import Logging
import Presence
import RedisBackplane
import Routing
import ServiceLifecycle

/// Where a node keeps what the cluster shares, picked by the configuration: Redis (or a
/// Redis Cluster) when `redis` is set, else in process (one node alone). Tests may pass
/// their own presence or relay.
struct Backplane {
    let presence: any PresenceDirectory
    let bus: any RelayBus
    /// The topics backends subscribed users to.
    let userTopics: any UserTopicStore
    /// Who is subscribed to topics whose namespace keeps presence.
    let topicPresence: any TopicPresenceDirectory
    /// The node's lease on its id; nil alone.
    let lease: NodeLeaseService<ContinuousClock>?
    /// Where the nodes keep their stats snapshots; nil alone.
    let stats: (any StatsStore)?
    /// Closes the connections presence and relay share, after everything that uses them
    /// has stopped; nil alone.
    let owner: (any Service)?

    init(
        configuration: NodeConfiguration, presence: (any PresenceDirectory)?, bus: (any RelayBus)?,
        registry: ConnectionRegistry, logger: Logger
    ) {
        guard let endpoint = configuration.redis, presence == nil || bus == nil else {
            self.presence = presence ?? InProcessPresenceDirectory()
            self.bus = bus ?? InProcessRelayBus(inbox: configuration.inbox)
            userTopics = InProcessUserTopicStore(ttl: configuration.subscriptionTTL)
            topicPresence = InProcessTopicPresence()
            (lease, stats, owner) = (nil, nil, nil)
            return
        }
        let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? SystemHostName.current ?? configuration.host : configuration.host
        let redis = RedisBackplane(
            endpoint: endpoint, timeout: configuration.redisTimeout, prefix: configuration.redisPrefix, nodeID: configuration.nodeID,
            inbox: configuration.inbox, holder: LeaseHolder.text(address: "\(host):\(configuration.port)"),
            leaseInterval: configuration.leaseInterval, leaseTTL: configuration.leaseTTL, subscriptionTTL: configuration.subscriptionTTL,
            localEntries: { registry.all().map { PresenceEntry(user: $0.user, connection: $0.id) } },
            localTopicEntries: { [namespaces = configuration.topicNamespaces] in registry.topicPresenceEntries(namespaces) }, logger: logger
        )
        self.presence = presence ?? redis.presence
        self.bus = bus ?? redis.bus
        // A test's own bus (in process) keeps its subscriptions in process too.
        userTopics = bus == nil ? redis.userTopics : InProcessUserTopicStore(ttl: configuration.subscriptionTTL)
        topicPresence = bus == nil ? redis.topicPresence : InProcessTopicPresence()
        (lease, stats, owner) = (redis.lease, redis.stats, redis.owner)
    }
}
