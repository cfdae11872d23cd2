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
    let logger: Logger
    private let nextSequence = Atomic<UInt64>(0)

    /// With no presence or bus given, the node runs alone (the embedded default).
    public init(
        configuration: NodeConfiguration,
        presence: any PresenceDirectory = InProcessPresenceDirectory(),
        bus: any RelayBus = InProcessRelayBus(),
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
    }

    /// Connections currently in this node's local map.
    public var connectionCount: Int { registry.count }

    /// A new cluster-unique connection id.
    func makeConnectionID() -> ConnectionID {
        ConnectionID(nodeID: configuration.nodeID, sequence: nextSequence.add(1, ordering: .relaxed).newValue)
    }

    /// The node's services in start order. A `ServiceGroup` shuts services down in
    /// reverse, so connections are drained before the listener stops.
    /// `onListening` learns the bound port (useful with port 0).
    public func services(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        [makeApplication(onListening: onListening), ConnectionDrainService(node: self)]
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: .init(services: services(), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
