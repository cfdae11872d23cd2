import Auth
import Essentials
import GRPCSupport
package import Logging
package import Presence
import RedisBackplane
package import Routing
package import ServiceLifecycle
package import UnixSignals

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
    private let gatewaySecurity: GRPCServerSecurity
    /// The node's lease on its id in a cluster; nil alone.
    let lease: NodeLeaseService<ContinuousClock>?
    /// Closes the backplane's connections, last; nil alone.
    private let backplaneOwner: (any Service)?

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
            configuration: configuration, registry: registry, presence: backplane.presence, bus: backplane.bus, backends: backends,
            routes: routes, authentication: CurrentAuthenticator(try await Self.authenticator(configuration), logger: logger),
            metrics: metrics, clusterStats: ClusterStats(store: backplane.stats), logger: logger
        )
        tls = try configuration.tlsCertFile.flatMap { cert in
            try configuration.tlsKeyFile.map { try ServerTLS(certFile: cert, keyFile: $0, logger: logger) }
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

    /// Connections currently in this node's local map.
    package var connectionCount: Int { session.registry.count }

    /// The node's listeners, for `services(onListening:)`.
    package enum Listener: Sendable {
        /// Clients' WebSocket endpoint, health and metrics.
        case webSocket
        /// The Gateway gRPC API for backends.
        case gatewayAPI
        /// The operator port (`admin-port`): metrics and health.
        case admin
    }

    /// The node's services in start order. A `ServiceGroup` shuts services down in
    /// reverse, so connections are drained before the listeners and backend clients stop.
    /// `onListening` learns each bound port (useful with port 0).
    package func services(onListening: @escaping @Sendable (Listener, Int) async -> Void = { _, _ in }) -> [any Service] {
        let (configuration, session) = (self.configuration, self.session)
        var services: [any Service] = (backplaneOwner.map { [$0] } ?? []) + [
            session.backends,
            StatsPublisher(
                nodeID: configuration.nodeID, interval: configuration.statsInterval, stats: session.clusterStats,
                readiness: session.readiness, metrics: session.metrics, logger: session.logger
            ),
        ]
        if configuration.memoryTrimInterval > .zero { services.append(MemoryTrimService(interval: configuration.memoryTrimInterval)) }
        if let tls { services.append(TLSReloadService(tls: tls, interval: configuration.tlsReloadInterval)) }
        if configuration.jwksFile != nil || configuration.jwksURL != nil {
            services.append(JWKSReloadService(configuration: configuration, authentication: session.authentication, logger: session.logger))
        }
        if let lease { services.append(lease) }
        if let port = configuration.adminPort {
            services.append(
                AdminListener(
                    endpoints: endpoints, host: configuration.adminHost ?? configuration.host, port: port,
                    maxPendingPerAddress: configuration.maxPendingPerAddress, handshakeTimeout: configuration.handshakeTimeout,
                    logger: session.logger, onListening: { await onListening(.admin, $0) }
                )
            )
        }
        return services + [
            clientListener(onListening: { await onListening(.webSocket, $0) }),
            GRPCServerService(
                host: configuration.host, port: configuration.grpcPort,
                service: GatewayAPIService(delivery: session.delivery, presence: session.presence, inbox: configuration.inbox, logger: session.logger),
                interceptors: [BearerSecretInterceptor(secret: configuration.pushSecret, name: "push secret")],
                security: gatewaySecurity,
                // Backends that do not let go of their connections get a tenth of the window.
                shutdownGrace: max(configuration.drainWindow / 10, .milliseconds(100)),
                onListening: { await onListening(.gatewayAPI, $0) }
            ),
            RelayAttachmentService(
                bus: session.bus, nodeID: configuration.nodeID, delivery: RelayedDelivery(local: session.registry, metrics: session.metrics)
            ),
            ConnectionDrainService(registry: session.registry, window: configuration.drainWindow, logger: session.logger),
        ]
    }

    /// The client port (its pipeline is what the fuzzers feed).
    package func clientListener(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> ClientListener {
        ClientListener(services: session, admission: admission, tls: tls, endpoints: endpoints, onListening: onListening)
    }

    /// What plain HTTP requests on the client and admin ports are answered from.
    var endpoints: HTTPEndpointHandler.Context {
        HTTPEndpointHandler.Context(
            metrics: session.metrics, authentication: session.authentication, readiness: session.readiness,
            metricsOnAdminPort: configuration.adminPort != nil, dev: configuration.dev, demo: configuration.demo
        )
    }

    /// How the node's services run as one group: graceful shutdown (the drain, then each
    /// service in reverse order) is bounded by the drain window, after which whatever has
    /// not stopped is cancelled, so the process always exits.
    package func serviceGroupConfiguration(_ services: [any Service], signals: [UnixSignal] = []) -> ServiceGroupConfiguration {
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: session.logger)
        group.maximumGracefulShutdownDuration = configuration.drainWindow
        return group
    }

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
