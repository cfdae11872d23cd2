import Identity
import Logging
import Presence
import BackendCalls
import Routing

/// What a client's session uses of its node, built once by `GatewayNode` and shared by
/// every connection: one reference per session rather than a copy of each part, and no
/// listeners, TLS or lease — a test builds one around in-process presence and relay.
final class SessionServices: Sendable {
    let configuration: NodeConfiguration
    /// This node's connections, by id and by user.
    let registry: ConnectionRegistry
    let presence: any PresenceDirectory
    let bus: any RelayBus
    /// The topics backends subscribed users to, restored at each connect.
    let userTopics: any UserTopicStore
    /// Who is subscribed to the topics of namespaces that keep presence.
    let topicPresence: any TopicPresenceDirectory
    let delivery: PushDelivery
    let backends: BackendPool
    /// Decides for the namespaces that leave subscribing or publishing to a backend.
    let topicAuthorizer: TopicAuthorizer
    let routes: RouteTable
    let authentication: CurrentAuthenticator
    let metrics: NodeMetrics
    let clusterStats: ClusterStats
    let connectionIDs: ConnectionIDs
    /// Tagged with the node id.
    let logger: Logger

    init(
        configuration: NodeConfiguration, registry: ConnectionRegistry, presence: any PresenceDirectory, bus: any RelayBus,
        userTopics: any UserTopicStore, topicPresence: any TopicPresenceDirectory = InProcessTopicPresence(), backends: BackendPool, routes: RouteTable, authentication: CurrentAuthenticator, metrics: NodeMetrics,
        clusterStats: ClusterStats, logger: Logger
    ) {
        self.configuration = configuration
        self.registry = registry
        self.presence = presence
        self.bus = bus
        self.userTopics = userTopics
        self.topicPresence = topicPresence
        delivery = PushDelivery(router: PushRouter(nodeID: configuration.nodeID, local: registry, bus: bus), metrics: metrics)
        self.backends = backends
        topicAuthorizer = TopicAuthorizer(
            backends: backends, timeout: configuration.topicAuthorizerTimeout, ttl: configuration.topicAuthorizationTTL,
            metrics: metrics, logger: logger
        )
        self.routes = routes
        self.authentication = authentication
        self.metrics = metrics
        self.clusterStats = clusterStats
        connectionIDs = ConnectionIDs(nodeID: configuration.nodeID)
        self.logger = logger
    }

    var readiness: Readiness { Readiness(registry: registry, bus: bus) }
}
