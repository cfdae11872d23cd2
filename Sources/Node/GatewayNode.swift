import Auth
import Essentials
import GRPCSupport
package import Logging
package import Presence
import RedisBackplane
package import Routing
package import ServiceLifecycle
import Synchronization
package import UnixSignals

/// One running gateway node: its connections, its view of presence and relay, and
/// the services that serve them.
package final class GatewayNode: Sendable {
    package let configuration: NodeConfiguration
    let registry = ConnectionRegistry()
    /// Who may connect now: slots, per-address and per-user caps.
    let admission: Admission
    let metrics: NodeMetrics
    /// The token checker in use (swapped when the JWKS changes).
    let authentication: CurrentAuthenticator

    /// The client port's TLS, when it has a certificate.
    let tls: ServerTLS?
    /// The Gateway API's TLS, loaded at init so that a file that does not load stops the start.
    private let gatewaySecurity: GRPCServerSecurity
    let presence: any PresenceDirectory
    let bus: any RelayBus
    let pushRouter: PushRouter
    let routes: RouteTable
    let backends: BackendPool
    let logger: Logger
    private let nextSequence = Atomic<UInt64>(0)
    /// The latest stats snapshot (`StatsPublisher`).
    let latestStats = Mutex<NodeStats?>(nil)

    /// Set when the node is part of a Redis cluster.
    let lease: NodeLeaseService<ContinuousClock>?
    /// Where the cluster's nodes keep their stats snapshots; nil alone.
    let stats: (any StatsStore)?
    /// Closes the cluster connections presence and relay share, after everything that
    /// uses them has stopped; nil alone.
    private let backplaneOwner: (any Service)?

    /// Presence and relay come from the configuration: Redis when `redis` is set, else in
    /// process (the embedded single-node default). Tests may pass their own.
    package init(
        configuration: NodeConfiguration,
        presence: (any PresenceDirectory)? = nil,
        bus: (any RelayBus)? = nil,
        routes: RouteTable = .standard,
        logger: Logger = Logger(label: "switchboard.node")
    ) async throws {
        try configuration.validate()
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        self.logger = logger
        let registry = self.registry
        if let endpoint = configuration.redis, presence == nil || bus == nil {
            let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? SystemHostName.current ?? configuration.host : configuration.host
            let backplane = RedisBackplane(
                endpoint: endpoint, timeout: configuration.redisTimeout, prefix: configuration.redisPrefix, nodeID: configuration.nodeID,
                inbox: configuration.inbox, holder: LeaseHolder.text(address: "\(host):\(configuration.port)"),
                leaseInterval: configuration.leaseInterval, leaseTTL: configuration.leaseTTL,
                localEntries: { registry.all().map { PresenceEntry(user: $0.user, connection: $0.id) } }, logger: logger
            )
            self.presence = presence ?? backplane.presence
            self.bus = bus ?? backplane.bus
            lease = backplane.lease
            stats = backplane.stats
            backplaneOwner = backplane.owner
        } else {
            self.presence = presence ?? InProcessPresenceDirectory()
            self.bus = bus ?? InProcessRelayBus(inbox: configuration.inbox)
            lease = nil
            stats = nil
            backplaneOwner = nil
        }
        metrics = NodeMetrics(nodeID: configuration.nodeID, clustered: configuration.redis != nil)
        authentication = CurrentAuthenticator(try await Self.authenticator(configuration), logger: logger)
        if let cert = configuration.tlsCertFile, let key = configuration.tlsKeyFile {
            tls = try ServerTLS(certFile: cert, keyFile: key, logger: logger)
        } else {
            tls = nil
        }
        do {
            gatewaySecurity = try configuration.gatewayTLS?.load(logger: logger) ?? .plaintext
        } catch {
            throw ConfigurationError(key: "gateway-tls-cert-file", problem: "\(error)")
        }
        pushRouter = PushRouter(nodeID: configuration.nodeID, local: registry, bus: self.bus)
        self.routes = routes
        backends = try BackendPool(
            endpoints: configuration.backends, tls: configuration.backendTLS, secret: configuration.effectiveBackendSecret,
            maxInFlight: configuration.maxBackendInFlight,
            breaker: CircuitBreaker.Policy(consecutiveFailures: configuration.backendFailuresToOpen, openFor: configuration.backendOpenFor),
            metrics: metrics, logger: logger
        )
        let files = OpenFileLimit.raiseToHard()
        let maxConnections = configuration.maxConnections ?? max(files - OpenFileLimit.reserved, 1)
        admission = Admission(maxConnections: maxConnections, configuration: configuration)
        if maxConnections > files - OpenFileLimit.reserved {
            logger.warning(
                "max-connections is above what the open-file limit allows; connections past it will fail to be accepted",
                metadata: ["max-connections": "\(maxConnections)", "open-file-limit": "\(files)"]
            )
        }
        logger.info("connection limit", metadata: ["max-connections": "\(maxConnections)", "open-file-limit": "\(files)"])
    }

    /// Ready for clients: not draining, and, in a cluster, relaying through Redis.
    package var isReady: Bool { !registry.isDraining && bus.isHealthy }

    /// Whether pushes to `user` from other nodes reach this node now (always, alone).
    package func relaysReach(user: String) -> Bool {
        bus.reaches(user: user)
    }

    /// Connections currently in this node's local map.
    package var connectionCount: Int { registry.count }

    /// A new cluster-unique connection id.
    func makeConnectionID() -> ConnectionID {
        ConnectionID(nodeID: configuration.nodeID, sequence: nextSequence.add(1, ordering: .relaxed).newValue)
    }

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
        let trim: [any Service] = configuration.memoryTrimInterval > .zero
            ? [MemoryTrimService(interval: configuration.memoryTrimInterval)] : []
        let redisOwner: [any Service] = backplaneOwner.map { [$0] } ?? []
        var reload: [any Service] = tls.map { [TLSReloadService(tls: $0, interval: configuration.tlsReloadInterval)] } ?? []
        if configuration.jwksFile != nil || configuration.jwksURL != nil { reload.append(JWKSReloadService(node: self)) }
        let admin: [any Service] = configuration.adminPort.map { port in
            [AdminListener(node: self, port: port, onListening: { await onListening(.admin, $0) })]
        } ?? []
        return redisOwner + [backends, StatsPublisher(node: self)] + trim + reload + (lease.map { [$0] } ?? []) + admin + [
            ClientListener(node: self, onListening: { await onListening(.webSocket, $0) }),
            GRPCServerService(
                host: configuration.host,
                port: configuration.grpcPort,
                service: GatewayAPIService(node: self),
                interceptors: [BearerSecretInterceptor(secret: configuration.pushSecret, name: "push secret")],
                security: gatewaySecurity,
                // Backends that do not let go of their connections get a tenth of the window.
                shutdownGrace: max(configuration.drainWindow / 10, .milliseconds(100)),
                onListening: { await onListening(.gatewayAPI, $0) }
            ),
            RelayAttachmentService(bus: bus, nodeID: configuration.nodeID, delivery: RelayedDelivery(local: registry, metrics: metrics)),
            ConnectionDrainService(registry: registry, window: configuration.drainWindow, logger: logger),
        ]
    }

    /// How the node's services run as one group: graceful shutdown (the drain, then each
    /// service in reverse order) is bounded by the drain window, after which whatever has
    /// not stopped is cancelled, so the process always exits.
    package func serviceGroupConfiguration(
        _ services: [any Service], signals: [UnixSignal] = []
    ) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = self.configuration.drainWindow
        return configuration
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
