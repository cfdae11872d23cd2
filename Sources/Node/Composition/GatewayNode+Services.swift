import GRPCSupport
import Logging
package import ServiceLifecycle
package import UnixSignals

/// The node's services, each given the values it needs, in start order.
extension GatewayNode {
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
        if let tls { services.append(tls.refresh) }
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
                service: GatewayAPIService(delivery: session.delivery, presence: session.presence, topicPresence: session.topicPresence,
                    presenceLimit: configuration.presenceLimit, inbox: configuration.inbox, topics: configuration.topicNamespaces,
                    userTopics: session.userTopics, topicsPerUser: configuration.topicsPerConnection, logger: session.logger
                ),
                interceptors: [BearerSecretInterceptor(secret: configuration.pushSecret, name: "push secret")],
                security: gatewaySecurity,
                // Backends that do not let go of their connections get a tenth of the window.
                shutdownGrace: max(configuration.drainWindow / 10, .milliseconds(100)),
                onListening: { await onListening(.gatewayAPI, $0) }
            ),
            RelayAttachmentService(
                bus: session.bus, nodeID: configuration.nodeID, delivery: RelayedDelivery(local: session.registry, metrics: session.metrics, bus: session.bus, logger: session.logger)
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
}
