import ArgumentParser
import Backends
import GRPCSupport
import Logging
import Node
import Routing

/// `switchboard backends`: the reference Location, Chat and Notification services.
struct BackendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "Run the reference Location, Chat and Notification backends (in memory) in one process."
    )

    @Option(help: "Address the services listen on (SWITCHBOARD_BACKENDS_HOST; default 127.0.0.1).")
    var host: String?
    @Option(help: "Location service port; 0 picks one (SWITCHBOARD_LOCATION_PORT; default 9101).")
    var locationPort: Int?
    @Option(help: "Chat service port; 0 picks one (SWITCHBOARD_CHAT_PORT; default 9102).")
    var chatPort: Int?
    @Option(help: "Notification service port; 0 picks one (SWITCHBOARD_NOTIFICATION_PORT; default 9103).")
    var notificationPort: Int?
    @Option(help: "host:port of a node's Gateway API to push through, or several separated by commas, tried in turn (SWITCHBOARD_GATEWAY; default 127.0.0.1:8081).")
    var gateway: String?
    @Option(help: "The nodes' push secret (SWITCHBOARD_PUSH_SECRET; required).")
    var pushSecret: String?
    @Option(help: "Secret nodes send with each call; calls without it are refused (SWITCHBOARD_BACKEND_SECRET; default: the push secret).")
    var backendSecret: String?
    @Option(help: "PEM certificate chain the services serve gRPC over TLS with (SWITCHBOARD_BACKENDS_TLS_CERT_FILE; needs --tls-key-file).")
    var tlsCertFile: String?
    @Option(help: "PEM private key of --tls-cert-file (SWITCHBOARD_BACKENDS_TLS_KEY_FILE).")
    var tlsKeyFile: String?
    @Option(help: "PEM authorities whose certificates nodes must present (mutual TLS; SWITCHBOARD_BACKENDS_CLIENT_CA_FILE).")
    var clientCAFile: String?
    @Option(help: "PEM authorities to trust for the Gateway API: pushes go over TLS (SWITCHBOARD_GATEWAY_CA_FILE).")
    var gatewayCAFile: String?
    @Option(help: "PEM certificate presented to a Gateway API that requires mutual TLS (SWITCHBOARD_GATEWAY_TLS_CERT_FILE; needs --gateway-tls-key-file).")
    var gatewayTLSCertFile: String?
    @Option(help: "PEM private key of --gateway-tls-cert-file (SWITCHBOARD_GATEWAY_TLS_KEY_FILE).")
    var gatewayTLSKeyFile: String?
    @Option(help: "Log level (SWITCHBOARD_LOG_LEVEL; default info).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessEnvironment.current
        let gatewayText = gateway ?? environment["SWITCHBOARD_GATEWAY"] ?? "127.0.0.1:8081"
        let gatewayEndpoints: [GRPCEndpoint]
        do {
            gatewayEndpoints = try gatewayText.split(separator: ",").map { try NodeConfiguration.endpoint(String($0), key: "gateway") }
        } catch {
            throw ValidationError("\(error)")
        }
        guard !gatewayEndpoints.isEmpty else { throw ValidationError("--gateway needs at least one host:port") }
        guard let secret = pushSecret ?? environment["SWITCHBOARD_PUSH_SECRET"], !secret.isEmpty else {
            throw ValidationError("no push secret: pass --push-secret or set SWITCHBOARD_PUSH_SECRET")
        }
        var configuration = BackendsConfiguration(gateways: gatewayEndpoints, pushSecret: secret)
        configuration.host = host ?? environment["SWITCHBOARD_BACKENDS_HOST"] ?? configuration.host
        configuration.locationPort = try port(locationPort, environment["SWITCHBOARD_LOCATION_PORT"], configuration.locationPort, "location-port")
        configuration.chatPort = try port(chatPort, environment["SWITCHBOARD_CHAT_PORT"], configuration.chatPort, "chat-port")
        configuration.notificationPort = try port(
            notificationPort, environment["SWITCHBOARD_NOTIFICATION_PORT"], configuration.notificationPort, "notification-port"
        )
        configuration.backendSecret = backendSecret ?? environment["SWITCHBOARD_BACKEND_SECRET"]
        if let secret = configuration.backendSecret, secret.utf8.count < 16 {
            throw ValidationError("--backend-secret must be at least 16 bytes")
        }
        let certFile = tlsCertFile ?? environment["SWITCHBOARD_BACKENDS_TLS_CERT_FILE"]
        let keyFile = tlsKeyFile ?? environment["SWITCHBOARD_BACKENDS_TLS_KEY_FILE"]
        let clientCA = clientCAFile ?? environment["SWITCHBOARD_BACKENDS_CLIENT_CA_FILE"]
        guard (certFile == nil) == (keyFile == nil) else { throw ValidationError("--tls-cert-file and --tls-key-file go together") }
        if let certFile, let keyFile {
            configuration.tls = GRPCServerTLS(certFile: certFile, keyFile: keyFile, clientCAFile: clientCA)
        } else if clientCA != nil {
            throw ValidationError("--client-ca-file needs --tls-cert-file and --tls-key-file")
        }
        let gatewayCA = gatewayCAFile ?? environment["SWITCHBOARD_GATEWAY_CA_FILE"]
        let gatewayCert = gatewayTLSCertFile ?? environment["SWITCHBOARD_GATEWAY_TLS_CERT_FILE"]
        let gatewayKey = gatewayTLSKeyFile ?? environment["SWITCHBOARD_GATEWAY_TLS_KEY_FILE"]
        guard (gatewayCert == nil) == (gatewayKey == nil) else {
            throw ValidationError("--gateway-tls-cert-file and --gateway-tls-key-file go together")
        }
        if gatewayCA != nil || gatewayCert != nil {
            configuration.gatewayTLS = GRPCClientTLS(caFile: gatewayCA, certFile: gatewayCert, keyFile: gatewayKey)
        }
        let logger = try LoggingSystem.bootstrapSwitchboard(level: logLevel ?? environment["SWITCHBOARD_LOG_LEVEL"] ?? "info")
        try await ReferenceBackends(configuration: configuration, logger: logger).run()
    }

    private func port(_ flag: Int?, _ environment: String?, _ fallback: Int, _ name: String) throws -> Int {
        if let flag { return flag }
        guard let environment else { return fallback }
        guard let value = Int(environment), (0...65535).contains(value) else {
            throw ValidationError("invalid \(name) '\(environment)': must be a port number")
        }
        return value
    }
}
