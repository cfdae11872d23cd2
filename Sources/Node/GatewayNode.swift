import Logging
import Presence
import Routing
import ServiceLifecycle
import Synchronization

/// One running gateway node: its connections, its view of presence and relay, and
/// the services that serve them.
public final class GatewayNode: Sendable {
    public let configuration: NodeConfiguration
    let registry = ConnectionRegistry()
    let metrics: NodeMetrics
    let authenticator: TokenAuthenticator
    let presence: any PresenceDirectory
    let bus: any RelayBus
    let pushRouter: PushRouter
    let routes: RouteTable
    let backends: BackendPool
    let logger: Logger
    private let nextSequence = Atomic<UInt64>(0)

    /// With no presence or bus given, the node runs alone (the embedded default).
    public init(
        configuration: NodeConfiguration,
        presence: any PresenceDirectory = InProcessPresenceDirectory(),
        bus: any RelayBus = InProcessRelayBus(),
        routes: RouteTable = .standard,
        logger: Logger = Logger(label: "switchboard.node")
    ) async throws {
        try configuration.validate()
        self.configuration = configuration
        self.presence = presence
        self.bus = bus
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        self.logger = logger
        metrics = NodeMetrics(nodeID: configuration.nodeID)
        authenticator = try await TokenAuthenticator(secret: configuration.jwtSecret)
        pushRouter = PushRouter(nodeID: configuration.nodeID, local: registry, presence: presence, bus: bus)
        self.routes = routes
        backends = try BackendPool(endpoints: configuration.backends, maxInFlight: configuration.maxBackendInFlight, logger: logger)
    }

    /// Connections currently in this node's local map.
    public var connectionCount: Int { registry.count }

    /// A new cluster-unique connection id.
    func makeConnectionID() -> ConnectionID {
        ConnectionID(nodeID: configuration.nodeID, sequence: nextSequence.add(1, ordering: .relaxed).newValue)
    }

    /// The node's listeners, for `services(onListening:)`.
    public enum Listener: Sendable {
        /// Clients' WebSocket endpoint, health and metrics.
        case webSocket
        /// The Gateway gRPC API for backends.
        case gatewayAPI
    }

    /// The node's services in start order. A `ServiceGroup` shuts services down in
    /// reverse, so connections are drained before the listeners and backend clients stop.
    /// `onListening` learns each bound port (useful with port 0).
    public func services(onListening: @escaping @Sendable (Listener, Int) async -> Void = { _, _ in }) -> [any Service] {
        [
            backends,
            makeApplication(onListening: { await onListening(.webSocket, $0) }),
            GRPCServerService(
                host: configuration.host,
                port: configuration.grpcPort,
                service: GatewayAPIService(node: self),
                interceptors: [PushSecretInterceptor(secret: configuration.pushSecret)],
                onListening: { await onListening(.gatewayAPI, $0) }
            ),
            ConnectionDrainService(node: self),
        ]
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: .init(services: services(), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
