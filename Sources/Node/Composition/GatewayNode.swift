import Auth
import Essentials
import GRPCSupport
import RedisBackplane
package import Logging
package import Presence
package import BackendCalls
package import Routing
import UnixSignals
import ServiceLifecycle

/// One running gateway node, composed here: the configuration picks the backplane (Redis
/// or in process), this builds the values each service and handler is given — the
/// sessions' services, admission, TLS — and `services` hands them out. Nothing reaches
/// back into the node.
package final class GatewayNode: Sendable {
    package let configuration: NodeConfiguration
    /// What every client session uses: connections, presence, relay, backends, metrics.
    let session: SessionServices
    /// Who may connect now: slots, per-address and per-user caps.
    let admission: Admission
    /// The client port's TLS, when it has a certificate.
    let tls: ServerTLS?
    /// The Gateway API's TLS, loaded at init so that a file that does not load stops the start.
    let gatewaySecurity: GRPCServerSecurity
    /// The node's lease on its id in a cluster; nil alone.
    let lease: NodeLeaseService<ContinuousClock>?
    /// Closes the backplane's connections, last; nil alone.
    let backplaneOwner: (any Service)?

    /// Presence and relay come from the configuration (`Backplane`); tests may pass their own.
    package init(
        configuration: NodeConfiguration, presence: (any PresenceDirectory)? = nil, bus: (any RelayBus)? = nil,
        routes: RouteTable = .standard, logger: Logger = Logger(label: "switchboard.node")
    ) async throws {
        try configuration.validate()
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        let registry = ConnectionRegistry()
        let backplane = Backplane(configuration: configuration, presence: presence, bus: bus, registry: registry, logger: logger)
        (lease, backplaneOwner) = (backplane.lease, backplane.owner)
        let metrics = NodeMetrics(nodeID: configuration.nodeID, clustered: configuration.redis != nil)
        let backends = try BackendPool(
            endpoints: configuration.backends, tls: configuration.backendTLS, secret: configuration.effectiveBackendSecret,
            maxInFlight: configuration.maxBackendInFlight,
            breaker: CircuitBreaker.Policy(consecutiveFailures: configuration.backendFailuresToOpen, openFor: configuration.backendOpenFor),
            metrics: metrics, logger: logger
        )
        session = SessionServices(
            configuration: configuration, registry: registry, presence: backplane.presence, bus: backplane.bus,
            userTopics: backplane.userTopics, topicPresence: backplane.topicPresence, backends: backends,
            routes: routes, authentication: CurrentAuthenticator(try await Self.authenticator(configuration), logger: logger),
            metrics: metrics, clusterStats: ClusterStats(store: backplane.stats), logger: logger
        )
        tls = try configuration.tlsCertFile.flatMap { cert in
            try configuration.tlsKeyFile.map { try ServerTLS(certFile: cert, keyFile: $0, reloadInterval: configuration.tlsReloadInterval, logger: logger) }
        }
        do {
            gatewaySecurity = try configuration.gatewayTLS?.load(logger: logger) ?? .plaintext
        } catch {
            throw ConfigurationError(key: "gateway-tls-cert-file", problem: "\(error)")
        }
        admission = Admission(configuration: configuration, logger: logger)
    }

    /// Ready for clients: not draining, and, in a cluster, relaying through Redis.
    package var isReady: Bool { session.readiness.isReady }

    /// Whether pushes to `user` from other nodes reach this node now (always, alone).
    package func relaysReach(user: String) -> Bool { session.bus.reaches(user: user) }
    /// Whether publishes to `topic` from every other interested node reach this one.
    package func relaysReach(topic: String) -> Bool { session.bus.reaches(topic: topic) }

    /// Connections currently in this node's local map.
    package var connectionCount: Int { session.registry.count }

    /// Takes the node id in the cluster before anything listens: throws `NodeIDInUse` while
    /// another live node has it (see `NodeLeaseService.claim`). Alone, nothing to take.
    package func claimNodeID() async throws {
        try await lease?.claim()
    }

    /// Takes the node id, then runs until SIGTERM or SIGINT, drains and returns.
    package func run() async throws {
        try await claimNodeID()
        try await ServiceGroup(configuration: serviceGroupConfiguration(services(), signals: [.sigterm, .sigint])).run()
    }
}
