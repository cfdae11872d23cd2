package import Essentials
import GRPCSupport

/// The reference backends' settings, each declared once, read through the same engine as
/// the node's (`SettingList`): flags of `switchboard backends`, `SWITCHBOARD_*` variables.
extension BackendsConfiguration {
    /// What the settings start from: the defaults, pushing through a node on this machine.
    package static var defaults: BackendsConfiguration {
        BackendsConfiguration(gateway: GRPCEndpoint(host: "127.0.0.1", port: 8081), pushSecret: "")
    }

    package static let settings: [Setting<BackendsConfiguration>] = [
        Setting.string("host", \.host, help: "Address the services listen on.").variable("SWITCHBOARD_BACKENDS_HOST"),
        .integer("location-port", \.locationPort, help: "Location service port; 0 picks one.", in: 0...65535),
        .integer("chat-port", \.chatPort, help: "Chat service port; 0 picks one.", in: 0...65535),
        .integer("notification-port", \.notificationPort, help: "Notification service port; 0 picks one.", in: 0...65535),
        Setting(
            key: "gateway", help: "host:port of a node's Gateway API to push through, or several separated by commas, tried in turn.",
            read: { configuration, text, source throws(ConfigurationError) in
                configuration.gateways = try text.split(separator: ",").map { part throws(ConfigurationError) in
                    guard let endpoint = GRPCEndpoint(part.trimmingSpaces) else {
                        throw ConfigurationError(key: source, problem: "'\(part)' is not host:port")
                    }
                    return endpoint
                }
            },
            show: { $0.gateways.map(\.description).joined(separator: ",") },
            check: { $0.gateways.isEmpty ? "needs at least one host:port" : nil }
        ),
        .string("push-secret", \.pushSecret, help: "The nodes' push secret (required).", secret: true) { secret in
            secret.isEmpty ? "is required (the nodes' push secret)" : nil
        },
        Setting(
            key: "backend-secret", help: "Secret nodes send with each call; calls without it are refused (default: the one nodes derive from the push secret).",
            read: { configuration, text, _ in configuration.backendSecret = text.isEmpty ? nil : text },
            show: { $0.backendSecret == nil ? nil : "(set)" },
            check: { configuration in
                guard let secret = configuration.backendSecret, secret.utf8.count < 16 else { return nil }
                return "must be at least 16 bytes"
            }
        ),
        Setting.optional(
            "tls-cert-file", \.tlsCertFile, pairedWith: \BackendsConfiguration.tlsKeyFile, "tls-key-file",
            help: "PEM certificate chain the services serve gRPC over TLS with; re-read when it changes."
        ).variable("SWITCHBOARD_BACKENDS_TLS_CERT_FILE"),
        Setting.optional("tls-key-file", \.tlsKeyFile, help: "PEM private key of --tls-cert-file.").variable("SWITCHBOARD_BACKENDS_TLS_KEY_FILE"),
        Setting.optional(
            "client-ca-file", \.clientCAFile, needs: \BackendsConfiguration.tlsCertFile, "--tls-cert-file",
            help: "PEM authorities whose certificates nodes must present (mutual TLS)."
        ).variable("SWITCHBOARD_BACKENDS_CLIENT_CA_FILE"),
        .optional("gateway-ca-file", \.gatewayCAFile, help: "PEM authorities to trust for the Gateway API: pushes go over TLS."),
        .optional(
            "gateway-tls-cert-file", \.gatewayTLSCertFile, pairedWith: \BackendsConfiguration.gatewayTLSKeyFile, "gateway-tls-key-file",
            help: "PEM certificate presented to a Gateway API that requires mutual TLS (turns TLS to it on)."
        ),
        .optional("gateway-tls-key-file", \.gatewayTLSKeyFile, help: "PEM private key of --gateway-tls-cert-file."),
    ]

    /// The settings as one list: read, checked and shown in `switchboard backends --help`.
    package static let settingList = SettingList(settings, command: "switchboard backends", noun: "backends setting")

    /// A configuration from the environment and flags (flags win), checked.
    package static func resolve(environment: [String: String], flags: [String: String]) throws(ConfigurationError) -> BackendsConfiguration {
        var configuration = defaults
        try settingList.read(into: &configuration, environment: environment, flags: flags)
        try settingList.check(configuration)
        return configuration
    }
}
