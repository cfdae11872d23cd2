import GRPCCore
import GRPCSupport
package import Logging
package import ServiceLifecycle
import UnixSignals

/// Location, Chat (with the topic authorizer) and Notification, each a gRPC server on its
/// own port, plus the client they push through: everything `switchboard backends` runs.
package struct ReferenceBackends: Sendable {
    package enum Service: String, Sendable, CaseIterable {
        case location, chat, notification
    }

    package let configuration: BackendsConfiguration
    private let pusher: GatewayPusher
    private let security: GRPCServerSecurity
    private let logger: Logger

    /// Throws when a TLS file does not load.
    package init(configuration: BackendsConfiguration, logger: Logger = Logger(label: "switchboard.backends")) throws {
        self.configuration = configuration
        self.logger = logger
        security = try configuration.tls?.load(logger: logger) ?? .plaintext
        pusher = try GatewayPusher(
            endpoints: configuration.gateways, pushSecret: configuration.pushSecret,
            security: try configuration.gatewayTLS?.load(logger: logger) ?? .plaintext, timeout: configuration.pushTimeout
        )
    }

    /// The services to run in one `ServiceGroup`; `onListening` learns each bound port.
    package func services(onListening: @escaping @Sendable (Service, Int) async -> Void = { _, _ in }) -> [any ServiceLifecycle.Service] {
        // The topic authorizer shares Chat's port: it answers for conversations' topics.
        let servers: [(Service, Int, [any RegistrableRPCService])] = [
            (.location, configuration.locationPort, [LocationBackend()]),
            (.chat, configuration.chatPort, [ChatBackend(gateway: pusher, logger: logger), TopicAuthorizerBackend()]),
            (.notification, configuration.notificationPort, [NotificationBackend(gateway: pusher, logger: logger)]),
        ]
        let nodesOnly = BearerSecretInterceptor(secret: configuration.effectiveBackendSecret, name: "backend secret")
        return [pusher] + servers.map { name, port, services in
            GRPCServerService(host: configuration.host, port: port, services: services, interceptors: [nodesOnly], security: security) {
                await onListening(name, $0)
            }
        }
    }

    /// Runs until SIGTERM or SIGINT.
    package func run() async throws {
        let group = ServiceGroup(configuration: .init(services: services { [logger] name, port in
            logger.info("listening", metadata: ["service": "\(name.rawValue)", "port": "\(port)"])
        }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
